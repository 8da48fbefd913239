import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Suite
import SuiteHTTP
import SuiteStorage
import UnixSignals

/// `dock serve`: the suite's HTTP API (see SuiteHTTP), under ServiceLifecycle.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API until SIGTERM or SIGINT, which let requests in flight finish and close the database.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "The signing key file from `dock forge keygen`: licence tokens are signed with it and its public key is served.")
    var signingKey: String?
    @Option(help: "Where browsers and the gateway reach this server, when not at http://HOST:PORT (a proxy): checkout URLs and webhooks use it. Default: $DOCK_PUBLIC_URL.")
    var publicURL: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        if let publicURL, URL(string: publicURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--public-url must be an http:// or https:// URL")
        }
    }

    func run() async throws {
        try await runReporting {
            var logger = Logger(label: "clientsuite.http") { LineLogHandler(label: $0) }
            logger.logLevel = .info
            let signing = try signingKey.map(readSigningKey)
            // Before the database opens, so that its pool reports to the registry /metrics reads.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            // The checkout page's URLs name the port, so port 0 is resolved to a free one before anything is built.
            let port = try port == 0 ? freePort(host: host) : port
            guard let publicURL = publicURL.flatMap(URL.init(string:))
                ?? ProcessInfo.processInfo.environment["DOCK_PUBLIC_URL"].flatMap({ $0.isEmpty ? nil : URL(string: $0) })
                ?? URL(string: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            else { throw ValidationError("Invalid --host: \(host)") }
            let suite = try await database.openSuite(publicURL: publicURL)
            do {
                try await HTTPTables.install(on: suite.database)
                let api = SuiteAPI(suite: suite, logger: logger, metrics: registry, signing: signing, publicURL: publicURL)
                let app = try api.application(host: host, port: port) { [host] port in
                    // Written at once, not through print's buffer: whoever started the server waits for this line.
                    FileHandle.standardOutput.write(Data("ClientSuite listening on http://\(host):\(port) (API under /v1, contract at /openapi.yaml)\n".utf8))
                }
                // The database is listed first, so that it is the last to stop: after the server has
                // finished the requests in flight. A database that is not a service is closed after.
                var services: [any Service] = []
                if let service = suite.database as? any Service { services.append(service) }
                services.append(app)
                services += try api.backgroundServices()
                let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch {
                try? await suite.close()
                throw error
            }
            try await suite.close()
            print("ClientSuite stopped")
        }
    }
}

/// A port on `host` that nothing listens on now: the kernel's pick for port 0, released at once.
private func freePort(host: String) throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw ValidationError("Cannot open a socket to pick a free port: give --port") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw ValidationError("Cannot pick a free port on \(host): give --port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
