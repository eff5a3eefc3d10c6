import Foundation
import IngestFuzzing
import Testing
import TestSupport

/// The ingress-request fuzz target over its committed seeds and seeded mutations of them
/// (the libFuzzer build runs it longer: tools/fuzz).
struct IngestFuzzRegressionTests {
    @Test func seedsAndMutationsKeepTheInvariants() throws {
        let seeds = try Fixture.files(in: "fuzz/ingress-request").map { try Fixture.bytes($0) }
        #expect(seeds.count >= 4)
        for s in seeds { s.withUnsafeBytes { IngestFuzzing.ingressRequest($0) } }
        var rng = SeededRandom(seed: 19)
        for i in 0..<5_000 { rng.mutate(seeds[i % seeds.count]).withUnsafeBytes { IngestFuzzing.ingressRequest($0) } }
    }

    @Test func rtspSeedsAndMutationsKeepTheInvariants() throws {
        let seeds = try Fixture.files(in: "fuzz/rtsp-messages").map { try Fixture.bytes($0) }
        #expect(seeds.count >= 3)
        for s in seeds { s.withUnsafeBytes { IngestFuzzing.rtspMessages($0) } }
        var rng = SeededRandom(seed: 2326)
        for i in 0..<5_000 { rng.mutate(seeds[i % seeds.count]).withUnsafeBytes { IngestFuzzing.rtspMessages($0) } }
    }
}
