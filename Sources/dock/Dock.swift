import Suite
import ArgumentParser
import Foundation

/// `dock`: install, inspect and operate ClientSuite from the command line.
@main
struct Dock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dock",
        abstract: "Install, inspect and operate ClientSuite.",
        discussion: """
            The database is --database, else $DOCK_DATABASE_URL, else ./dock.sqlite. \
            A SQLite file path (options: ?synchronous=full|normal&busy_timeout=S) or a \
            postgres://user@host:port/db URL (options: sslmode, search_path, pool, min, keepalive, connect_timeout, statement_cache).
            """,
        subcommands: [Install.self, ClientCommand.self, AllyCommand.self, ForgeCommand.self, WaveCommand.self, WorkflowCommand.self, APIKeyCommand.self, Serve.self, Demo.self])

    /// Like ArgumentParser's `main()`, except that a usage error is one line on stderr (the usage
    /// text is what `--help` is for); help and version still go to stdout.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // Our own failures were reported by `runReporting` and arrive as a bare ExitCode.
            let text = message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            if !text.isEmpty {
                FileHandle.standardError.write(Data("error: \(text) (see --help)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
