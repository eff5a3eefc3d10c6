// shihui-server: parses nothing itself; ServerMain resolves options and wires the modules.
import Foundation
import ServerApp

exit(ServerMain.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
