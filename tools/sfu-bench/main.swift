// sfu-bench: CPU per forwarded packet of MediaRouter for 1 publisher → N subscribers, in process
// (no sockets): real SRTP unprotect of the publisher's packet, then per subscriber rewrite, mid
// extension, SRTP protect. Baseline in the same process: one SRTP unprotect + one protect of the
// same packet, the crypto work a forwarded packet cannot avoid. docs/PERFORMANCE.md.
//
//   swift build -c release --product sfu-bench && .build/release/sfu-bench [--quick] [--cm] | --memory
//   | --arena same|thread [--drop-kept]   (ArenaProbe: heap left by a handshake storm)
//   | --removal (3,000 viewers removed from a router, time per removal)
//   | --layout (the heap objects a connected viewer keeps in the media plane, malloc chunk sizes)
//   | --taps [--quick] [--cm] (1 → 20 with no tap and with one: what a tap costs, and none)
//   --crypto-heap (first): OpenSSL allocates from MediaCrypto.CryptoHeap, as in shihui-server
import MediaCrypto

if CommandLine.arguments.contains("--crypto-heap") { precondition(CryptoHeap.install(), "OpenSSL allocated before install") }
if let i = CommandLine.arguments.firstIndex(of: "--arena") {
    ArenaProbe.run(count: 1000, handshakesOnAnotherThread: CommandLine.arguments.dropFirst(i + 1).first == "thread",
                   dropKept: CommandLine.arguments.contains("--drop-kept"))
} else if CommandLine.arguments.contains("--layout") {
    LayoutProbe.run()
} else if CommandLine.arguments.contains("--removal") {
    MemoryProbe.removal(count: 3000)
} else if CommandLine.arguments.contains("--taps") {
    SFUBench.taps(quick: CommandLine.arguments.contains("--quick"),
                  profile: CommandLine.arguments.contains("--cm") ? .aes128CmHmacSha1_80 : .aeadAes128Gcm)
} else if CommandLine.arguments.contains("--memory") {
    MemoryProbe.run(count: 1000)
} else {
    SFUBench.run(quick: CommandLine.arguments.contains("--quick"),
             profile: CommandLine.arguments.contains("--cm") ? .aes128CmHmacSha1_80 : .aeadAes128Gcm)
}
