import ArgumentParser

/// `dock`: install, inspect and operate ClientSuite from the command line.
@main
struct Dock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dock",
        abstract: "Install, inspect and operate ClientSuite.",
        discussion: """
            The database is --database, else $DOCK_DATABASE_URL, else ./dock.sqlite. \
            A SQLite file path or a postgres://user@host:port/db URL.
            """,
        subcommands: [Install.self, ClientCommand.self, Demo.self])
}
