// shihui-export: the recording exporter CLI. It has nothing to export until the server records
// (issue 20), and says so with a failing exit status rather than pretending to succeed.
import Foundation

let usage = """
    Usage: shihui-export <command> ...
    No recording format exists yet: the server does not record (issue 20), so there is nothing to export.
    """
FileHandle.standardError.write((usage + "\n").data(using: .utf8)!)
exit(2)
