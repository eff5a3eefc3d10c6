// swift-tools-version:6.0
// Shihui (视会): media server for a provincial mobile office.
// Hard rule: no Swift package dependencies. System C libraries only, through
// `.systemLibrary` targets; `CShims` holds the little Swift cannot import.
import PackageDescription

/// Release builds are whole-module optimised by SwiftPM. The packet-path modules also drop
/// dynamic exclusivity checks in release builds: the forwarding profile showed
/// swift_beginAccess/AccessSet::insert on every packet (docs/PERFORMANCE.md, issue 5); debug
/// builds, which every test runs, keep them.
let packetPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Shihui",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shihui-server", targets: ["shihui-server"]),
        .executable(name: "shihui-export", targets: ["shihui-export"]),
        .executable(name: "wire-bench", targets: ["wire-bench"]),
        .executable(name: "wire-check", targets: ["wire-check"]),
        .executable(name: "sfu-bench", targets: ["sfu-bench"]),
        .executable(name: "shihui-bench", targets: ["shihui-bench"]),
    ],
    targets: [
        // MARK: System libraries (module maps + pkg-config + Debian providers)
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CVPX", pkgConfig: "vpx", providers: [.apt(["libvpx-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // MARK: The one C target: socket batching, epoll, CMSG (what Glibc's module map lacks)
        .target(name: "CShims"),

        // MARK: Pure layers
        .target(name: "MediaCrypto", dependencies: ["COpenSSL"], swiftSettings: packetPath),
        .target(name: "MediaWire", dependencies: ["MediaCrypto"], swiftSettings: packetPath),
        .target(name: "HTTP", dependencies: ["MediaCrypto"]),
        .target(name: "SFU", dependencies: ["MediaWire", "MediaCrypto"], swiftSettings: packetPath),
        .target(name: "Signaling", dependencies: ["HTTP", "MediaCrypto"]),
        .target(name: "SocketAddress", dependencies: ["MediaWire"]),
        .target(name: "ServerIO", dependencies: ["HTTP", "MediaWire", "CShims", "SocketAddress"]),
        .target(name: "MediaIO", dependencies: ["SFU", "MediaWire", "CShims", "SocketAddress"], swiftSettings: packetPath),
        .target(name: "MediaSessions", dependencies: ["SFU", "MediaWire", "MediaCrypto", "Signaling"]),
        .target(name: "AudioTranscoding", dependencies: ["COpus", "MediaWire"]),
        .target(name: "Ingest", dependencies: ["SFU", "MediaWire", "MediaCrypto", "Signaling", "AudioTranscoding", "HTTP"]),
        .target(name: "ServerApp", dependencies: ["ServerIO", "Signaling", "HTTP", "MediaWire", "MediaCrypto", "SFU", "MediaIO", "MediaSessions", "Ingest", "CShims"]),

        // MARK: Executables (argument parsing and wiring only)
        .executableTarget(name: "shihui-server", dependencies: ["ServerApp"]),
        .executableTarget(name: "shihui-export", dependencies: ["MediaWire"]),

        // MARK: Tools (release executables; see tools/README.md)
        .executableTarget(name: "wire-bench", dependencies: ["MediaWire"], path: "tools/wire-bench"),
        .executableTarget(name: "wire-check", dependencies: ["MediaWire"], path: "tools/wire-check"),
        .executableTarget(name: "sfu-bench", dependencies: ["SFU", "MediaWire", "MediaCrypto", "CShims"], path: "tools/sfu-bench"),
        .executableTarget(name: "shihui-bench", dependencies: ["MediaWire", "MediaCrypto", "Signaling", "HTTP", "CShims", "SocketAddress"], path: "tools/shihui-bench"),

        // MARK: Fuzzing entry points (libFuzzer targets and the Fixtures/fuzz regression test share them)
        .target(name: "WireFuzzing", dependencies: ["MediaWire"], path: "tools/fuzz/WireFuzzing"),
        .target(name: "ProtocolFuzzing", dependencies: ["HTTP", "Signaling"], path: "tools/fuzz/ProtocolFuzzing"),
        .target(name: "MediaFuzzing", dependencies: ["SFU", "MediaWire", "MediaCrypto"], path: "tools/fuzz/MediaFuzzing"),
        .target(name: "IngestFuzzing", dependencies: ["Ingest", "AudioTranscoding", "SFU", "Signaling"], path: "tools/fuzz/IngestFuzzing"),

        // MARK: Tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MediaWireTests", dependencies: ["MediaWire", "TestSupport", "WireFuzzing"]),
        .testTarget(name: "MediaCryptoTests", dependencies: ["MediaCrypto", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport", "ProtocolFuzzing"]),
        .testTarget(name: "SignalingTests", dependencies: ["Signaling", "HTTP", "TestSupport"]),
        .testTarget(name: "ServerAppTests", dependencies: ["ServerApp", "TestSupport"]),
        .testTarget(name: "AudioTranscodingTests", dependencies: ["AudioTranscoding", "COpus", "MediaWire"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "AudioTranscoding", "SFU", "MediaWire", "MediaCrypto", "Signaling", "TestSupport", "IngestFuzzing"]),
        .testTarget(name: "MediaSessionsTests", dependencies: ["MediaSessions", "SFU", "MediaWire", "MediaCrypto", "TestSupport"]),
        .testTarget(name: "SFUTests", dependencies: ["SFU", "MediaWire", "MediaCrypto", "TestSupport", "MediaFuzzing"]),
        .testTarget(name: "SystemLibrariesTests", dependencies: ["CShims", "COpus", "CVPX", "COpenSSL", "CSQLite", "CTurboJPEG"]),
    ],
    swiftLanguageModes: [.v6]
)
