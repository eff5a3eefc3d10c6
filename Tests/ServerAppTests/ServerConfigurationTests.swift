import Foundation
import Testing
@testable import ServerApp
import MediaWire

/// Option resolution is a public contract: flag > environment > config file > default.
struct ServerConfigurationTests {
    static let file = Data(#"{"http":"127.0.0.1:9000","udp":"127.0.0.1:9002","data":"/tmp/from-file","secret":"file-secret-0123456789"}"#.utf8)

    /// Embedded defaults: loopback, ports 7880/7882, ./data, no secret.
    @Test func defaults() throws {
        let c = try ServerConfiguration.resolve(arguments: [], environment: [:])
        #expect(c.http.description == "127.0.0.1:7880" && c.udp.description == "127.0.0.1:7882")
        #expect(c.dataDirectory == "./data" && c.secret == nil)
    }

    /// Each layer overrides the one below it.
    @Test func precedence() throws {
        let read: (String) throws -> Data = { _ in Self.file }
        let fromFile = try ServerConfiguration.resolve(arguments: ["--config", "c.json"], environment: [:], readFile: read)
        #expect(fromFile.http.port == 9000 && fromFile.dataDirectory == "/tmp/from-file" && fromFile.secret == "file-secret-0123456789")
        let env = ["SHIHUI_HTTP": "[::1]:9100", "SHIHUI_SECRET": "env-secret-0123456789"]
        let fromEnv = try ServerConfiguration.resolve(arguments: ["--config", "c.json"], environment: env, readFile: read)
        #expect(fromEnv.http.description == "[::1]:9100" && fromEnv.udp.port == 9002 && fromEnv.secret == "env-secret-0123456789")
        let fromFlags = try ServerConfiguration.resolve(arguments: ["--config", "c.json", "--http", "127.0.0.1:9200", "--secret", "flag-secret-0123456789"],
                                                        environment: env, readFile: read)
        #expect(fromFlags.http.port == 9200 && fromFlags.secret == "flag-secret-0123456789" && fromFlags.dataDirectory == "/tmp/from-file")
    }

    /// Bad values are refused with a message naming the option and where it came from.
    @Test(arguments: [
        (["--http", "localhost"], [:], "flag: http must be ADDR:PORT (e.g. 127.0.0.1:7880 or [::1]:7880)"),
        ([], ["SHIHUI_UDP": "1.2.3.4"], "environment: udp must be ADDR:PORT (e.g. 127.0.0.1:7880 or [::1]:7880)"),
        (["--secret", "short"], [:], "flag: secret must be at least 16 characters"),
        (["--bogus", "1"], [:], "unknown option --bogus (see --help)"),
        (["--http"], [:], "--http needs a value"),
        (["--ws-timeout", "-1"], [:], "--ws-timeout must be a number of seconds above 0"),
    ] as [([String], [String: String], String)])
    func refusals(arguments: [String], environment: [String: String], message: String) {
        #expect(throws: ServerConfiguration.Error(message)) { try ServerConfiguration.resolve(arguments: arguments, environment: environment) }
    }

    /// Without a secret, one is generated into data/secret with mode 0600 and reused next time.
    @Test func generatedSecret() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shihui-secret-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = ServerConfiguration()
        c.dataDirectory = dir
        let (first, generatedAt) = try c.resolveSecret()
        #expect(generatedAt == dir + "/secret" && first.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/secret")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (second, again) = try c.resolveSecret()
        #expect(second == first && again == nil)
    }
}
