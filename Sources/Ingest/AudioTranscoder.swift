import AudioTranscoding
import Foundation
import SFU
import Synchronization

/// The worker thread that turns ingresses' G.711 into Opus, off the media thread: each job's
/// input ring (filled by its receiver on the media thread) is drained every 10 ms, and the Opus
/// packets go into its output ring, which the media thread drains into the router
/// (`IngressService.MediaThreadState.pump`). Started with the first job, it runs until `stop`.
public final class AudioTranscoder: Sendable {
    /// One stream: rings on both sides and the converter only the worker touches.
    /// @unchecked Sendable: `converter` is used on the worker thread only; the rings are the
    /// checked hand-off (TapRing).
    public final class Job: @unchecked Sendable {
        public let input: TapRing
        public let output: TapRing
        let converter: G711ToOpus
        init(input: TapRing, output: TapRing, converter: G711ToOpus) {
            self.input = input
            self.output = output
            self.converter = converter
        }
    }

    private let jobs = Mutex<[Job]>([])
    private let running = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    public init() {}

    public func add(_ job: Job) {
        jobs.withLock { $0.append(job) }
        if !running.exchange(true, ordering: .acquiringAndReleasing) {
            let thread = Thread { [self] in run() }
            thread.name = "shihui-transcode"
            thread.start()
        }
    }

    public func remove(_ job: Job) { jobs.withLock { list in list.removeAll { $0 === job } } }

    public func stop() { stopping.store(true, ordering: .releasing) }

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            for job in jobs.withLock({ $0 }) {
                job.input.drain { packet, _ in
                    job.converter.push(packet) { opus in _ = job.output.push(opus, arrival: 0) }
                }
            }
            usleep(10_000)
        }
    }
}
