import Testing
@testable import SFU

/// The timing wheel the report pass takes due transports from (manual clock, 100 ms slots).
struct ReportWheelTests {
    static let ms: UInt64 = 1_000_000

    static func take(_ wheel: inout ReportWheel, at ms: UInt64) -> [WebRTCTransport.ID] {
        var due: [WebRTCTransport.ID] = []
        wheel.take(now: ms * Self.ms, into: &due)
        return due
    }

    /// A transport is taken once its slot has ended, never before its time, and only once.
    @Test func takenAfterItsSlotEndsAndOnce() {
        var wheel = ReportWheel(slotNanos: 100 * Self.ms)
        wheel.schedule(1, at: 250 * Self.ms)
        wheel.schedule(2, at: 420 * Self.ms)
        #expect(Self.take(&wheel, at: 250) == [])
        #expect(Self.take(&wheel, at: 299) == [])
        #expect(Self.take(&wheel, at: 300) == [1])
        #expect(Self.take(&wheel, at: 300) == [])
        #expect(Self.take(&wheel, at: 499) == [])
        #expect(wheel.count == 1)
        #expect(Self.take(&wheel, at: 500) == [2])
        #expect(wheel.count == 0)
    }

    /// A time already past goes with the next slot to end; a time beyond the span is taken at
    /// its end, not lost and not early.
    @Test func pastAndFarTimes() {
        var wheel = ReportWheel(slotNanos: 100 * Self.ms)
        wheel.schedule(1, at: 1_000 * Self.ms)
        #expect(Self.take(&wheel, at: 1_100) == [1])  // slots up to 10 taken
        wheel.schedule(2, at: 50 * Self.ms)           // long past: slot 11
        #expect(Self.take(&wheel, at: 1_199) == [])
        #expect(Self.take(&wheel, at: 1_200) == [2])
        let span = UInt64(ReportWheel.slotCount) * 100
        wheel.schedule(3, at: 60_000 * Self.ms)       // beyond the span: its last slot
        #expect(Self.take(&wheel, at: 1_200 + span - 100) == [])
        #expect(Self.take(&wheel, at: 1_200 + span) == [3])
    }

    /// After a stall longer than the span, one take returns every transport, each once.
    @Test func aLongStallTakesEverything() {
        var wheel = ReportWheel(slotNanos: 100 * Self.ms)
        for id in 1...40 { wheel.schedule(id, at: UInt64(id) * 70 * Self.ms) }
        #expect(wheel.count == 40)
        #expect(Self.take(&wheel, at: 100_000).sorted() == Array(1...40))
        #expect(wheel.count == 0)
        #expect(Self.take(&wheel, at: 200_000) == [])
    }
}
