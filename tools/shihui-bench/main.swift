import Foundation
import Glibc

/// shihui-bench: a WebRTC load generator on our own wire and crypto modules (docs/PERFORMANCE.md).
enum BenchMain {
    static func main(_ args: [String]) -> Int32 {
        do {
            let options = try BenchOptions.parse(args)
            let result = try BenchRun.run(options)
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return 0
        } catch {
            FileHandle.standardError.write(Data("shihui-bench: \(error)\n".utf8))
            return 1
        }
    }
}

exit(BenchMain.main(Array(CommandLine.arguments.dropFirst())))
