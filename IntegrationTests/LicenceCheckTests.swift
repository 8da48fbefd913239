import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SuiteTestSupport
import Testing

/// The LicenceCheck example as an app in the field runs it: against a real `dock serve`, then with
/// the server gone, when only its signed token and the cached public keys can decide.
/// Exit status: 0 valid, 1 invalid, 2 undecided, 3 refused.
@Suite struct LicenceCheckTests {
    @Test(arguments: Engine.allCases)
    func anActiveLicenceIsValidOnlineAndTheServersPublicKeysAreCached(engine: Engine) async throws {
        try await withLicenceServer(engine) { fixture, server in
            let run = try fixture.check(server: server.url, "--token", fixture.tokenFile, "--keys", fixture.keysFile)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "valid: licence \(fixture.licence) (\(fixture.product)), expires \(fixture.expiryDay)\n")
            #expect(run.stderr.isEmpty)
            let cached = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.keysFile))) as? [String: Any]
            let keys = try #require(cached?["keys"] as? [[String: Any]])
            #expect(keys.map { $0["id"] as? String } == [fixture.keyID])
            #expect(keys.map { $0["public_key"] as? String } == [fixture.publicKey])
        }
    }

    @Test(arguments: Engine.allCases)
    func aLicenceRevokedWhileTheServerRunsIsInvalidOnline(engine: Engine) async throws {
        try await withLicenceServer(engine) { fixture, server in
            #expect(try fixture.check(server: server.url).status == 0)
            let revoked = try fixture.dock("forge", "revoke", fixture.licence, "--reason", "refund")
            #expect(revoked.status == 0, "\(revoked.stderr)")
            // The token still verifies offline (a revocation cannot reach it), but a server that answers has the last word.
            let run = try fixture.check(server: server.url, "--token", fixture.tokenFile, "--keys", fixture.keysFile)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stdout == "invalid: revoked (licence \(fixture.licence))\n")
            let unknown = try fixture.check(server: server.url, key: String(fixture.key.reversed()))
            #expect(unknown.status == 1 && unknown.stdout == "invalid: notFound\n", "\(unknown.stdout)\(unknown.stderr)")
        }
    }

    @Test func aGoodTokenIsValidOfflineWhenTheServerIsStoppedOrSilent() async throws {
        try await withLicenceServer(.sqlite) { fixture, server in
            #expect(try fixture.check(server: server.url, "--keys", fixture.keysFile).status == 0)  // caches the public keys
            _ = await server.stop()
            let offline = "valid (offline): licence \(fixture.licence) (\(fixture.product)) until \(fixture.expiryDay)"
            let stopped = try fixture.check(server: server.url, "--token", fixture.tokenFile, "--keys", fixture.keysFile,
                                            "--licence", fixture.licence)
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(stopped.stdout.hasPrefix(offline) && stopped.stdout.hasSuffix(", signed by key \(fixture.keyID)\n"), "\(stopped.stdout)")
            #expect(stopped.stderr == "note: cannot reach \(server.url) (connection refused); checked the offline token\n")

            // A server that accepts the connection and never answers: the timeout sends the app offline.
            let silent = try LoopbackPort(listening: true)
            let started = ContinuousClock.now
            let waited = try fixture.check(server: silent.url, "--token", fixture.tokenFile, "--keys", fixture.keysFile, "--timeout", "1")
            #expect(waited.status == 0 && waited.stdout.hasPrefix(offline), "\(waited.stdout)\(waited.stderr)")
            #expect(waited.stderr.contains("(no answer in time)"))
            #expect(ContinuousClock.now - started < .seconds(10))

            // The token names its licence, not its key: --licence ties it to the licence the app was activated with.
            let other = try fixture.check(server: server.url, "--token", fixture.tokenFile, "--keys", fixture.keysFile,
                                          "--licence", "LC-" + String(fixture.licence.dropFirst(3).reversed()))
            #expect(other.status == 1 && other.stdout.hasPrefix("invalid (offline): the token is for licence \(fixture.licence), not "),
                    "\(other.stdout)")
        }
    }

    @Test func aTamperedTokenIsInvalidOffline() async throws {
        try await withLicenceServer(.sqlite) { fixture, server in
            #expect(try fixture.check(server: server.url, "--keys", fixture.keysFile).status == 0)
            _ = await server.stop()
            // One character changed in the middle of the claims: the licence, product or dates a thief would edit.
            let token = try #require(fixture.token)
            let claims = try #require(token.split(separator: ".").dropFirst().first)
            let middle = claims.index(claims.startIndex, offsetBy: claims.count / 2)
            var tampered = token
            tampered.replaceSubrange(middle...middle, with: claims[middle] == "A" ? "B" : "A")
            let tamperedFile = fixture.directory.appendingPathComponent("tampered.token").path
            try Data((tampered + "\n").utf8).write(to: URL(fileURLWithPath: tamperedFile))

            let run = try fixture.check(server: server.url, "--token", tamperedFile, "--keys", fixture.keysFile)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stdout == "invalid (offline): tampered\n")
            // The same token untouched, in the same bare form, is fine: the change alone made it invalid.
            try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: tamperedFile))
            #expect(try fixture.check(server: server.url, "--token", tamperedFile, "--keys", fixture.keysFile).status == 0)
        }
    }

    @Test func anUnreachableServerWithoutATokenOrKeysLeavesTheCheckUndecided() throws {
        let closed = try LoopbackPort(listening: false)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("licencecheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("licence.token").path
        try Data("CSL1.AAAA.AAAA\n".utf8).write(to: URL(fileURLWithPath: tokenFile))
        let base = ["--server", closed.url, "--api-key", "csk_anything", "--key", "7QK2M-X4T9B-0HZ8R-NC3VW-G6D1P-KJ5YE"]

        for (extra, why) in [([String](), "there is no token to check offline"),
                             (["--token", tokenFile], "there are no public keys to check the token with"),
                             (["--token", tokenFile, "--keys", directory.appendingPathComponent("missing.json").path],
                              "cannot be read")] {
            let run = try runProduct("LicenceCheck", base + extra)
            #expect(run.status == 2, "\(extra): \(run.stdout)\(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("error: Cannot reach \(closed.url) (connection refused), and ") && run.stderr.contains(why),
                    "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func aWrongAPIKeyIsRefusedWithoutFallingBackOffline() async throws {
        try await withLicenceServer(.sqlite) { fixture, server in
            let run = try fixture.check(server: server.url, apiKey: fixture.verifyKey + "x", "--token", fixture.tokenFile,
                                        "--keys", fixture.keysFile)
            #expect(run.status == 3)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("error: \(server.url) refused the request (401): ") && run.stderr.split(separator: "\n").count == 1,
                    "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: fixture.keysFile))  // nothing cached from a refused check
        }
    }
}

// MARK: - A licence, a verify key and a signed token, made with dock; dock serve over them

/// What `dock` made for a test: a client with an active licence, a verify key, a signing key and
/// a token signed with it; the files LicenceCheck reads live in `directory`.
private struct LicenceFixture {
    let location: String
    let directory: URL
    let product = "pro-1y"
    var licence = "", key = "", expiryDay = "", verifyKey = ""
    var keyID = "2026-12", publicKey = "", signingKeyFile = ""
    var tokenFile: String { directory.appendingPathComponent("licence-token.json").path }
    var keysFile: String { directory.appendingPathComponent("licence-keys.json").path }

    /// The token in ``tokenFile``.
    var token: String? {
        guard let data = FileManager.default.contents(atPath: tokenFile),
              let signed = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return signed["token"] as? String
    }

    /// Runs `dock` on the fixture's database, as a user would.
    @discardableResult
    func dock(_ arguments: String...) throws -> ProductRun { try dock(arguments) }

    /// Runs `dock` with `arguments`, plus `--database` unless the command needs none.
    func dock(_ arguments: [String], database: Bool = true) throws -> ProductRun {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLIENT_") && $0.key != "DOCK_DATABASE_URL" }
        return try runProduct("dock", arguments + (database ? ["--database", location] : []), environment: environment)
    }

    /// Runs `dock … --json` and reads its object.
    func dockJSON(_ arguments: String..., database: Bool = true) throws -> [String: Any] {
        let run = try dock(arguments + ["--json"], database: database)
        #expect(run.status == 0, "\(arguments): \(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    /// Runs LicenceCheck against `server` for this licence's key (or `key`), with the verify key (or `apiKey`).
    func check(server: String, key: String? = nil, apiKey: String? = nil, _ extra: String...) throws -> ProductRun {
        try runProduct("LicenceCheck", ["--server", server, "--api-key", apiKey ?? verifyKey, "--key", key ?? self.key] + extra)
    }

    /// Installs the suite on a fresh database and makes the client, licence, keys and token.
    static func make(location: String) throws -> LicenceFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("licencecheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var fixture = LicenceFixture(location: location, directory: directory)
        let install = try fixture.dock("install")
        #expect(install.status == 0, "\(install.stderr)")

        fixture.signingKeyFile = directory.appendingPathComponent("signing.json").path
        let generated = try fixture.dockJSON("forge", "keygen", "--id", fixture.keyID, "--out", fixture.signingKeyFile, database: false)
        fixture.publicKey = try #require(generated["public_key"] as? String)

        let client = try #require(try fixture.dockJSON("client", "create", "--name", "Acme", "--email", "ops@acme.example")["refid"] as? String)
        #expect(try fixture.dock("client", "activate", client).status == 0)
        #expect(try fixture.dock("wave", "product", "create", "--name", "Pro", "--slug", fixture.product, "--price", "4900",
                                 "--currency", "USD", "--licence-days", "365").status == 0)
        let minted = try fixture.dockJSON("forge", "mint", "--product", fixture.product)
        fixture.key = try #require(minted["key"] as? String)
        fixture.licence = try #require((minted["licence"] as? [String: Any])?["refid"] as? String)
        let activated = try fixture.dockJSON("forge", "activate", fixture.licence, "--client", client)
        let expiresAt = try #require(((activated["licences"] as? [[String: Any]])?.first)?["expires_at"] as? String)
        fixture.expiryDay = String(expiresAt.prefix(10))  // 2027-12-05T09:25:27Z → 2027-12-05

        let signed = try fixture.dock("forge", "sign", fixture.licence, "--key-file", fixture.signingKeyFile, "--valid-for-days", "30", "--json")
        #expect(signed.status == 0, "\(signed.stderr)")
        try Data(signed.stdout.utf8).write(to: URL(fileURLWithPath: fixture.tokenFile))
        fixture.verifyKey = try #require(try fixture.dockJSON("apikey", "create", "--verify", "--name", "app")["secret"] as? String)
        return fixture
    }
}

/// Runs `body` with a fresh licence fixture on `engine` and `dock serve` over it.
private func withLicenceServer(_ engine: Engine, _ body: (LicenceFixture, DockServer) async throws -> Void) async throws {
    let (location, cleanUp) = try await engine.freshLocation()
    defer { Task { await cleanUp() } }
    let fixture = try LicenceFixture.make(location: location)
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    let server = try await DockServer.start(database: location, "--signing-key", fixture.signingKeyFile)
    defer { server.terminateIfRunning() }
    try await body(fixture, server)
}

/// A loopback port held open for a test: bound but not listening, it refuses every connection;
/// listening but never accepting, it takes the connection and never answers.
private final class LoopbackPort {
    let url: String
    private let descriptor: Int32

    init(listening: Bool) throws {
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, stream, 0)
        guard descriptor >= 0 else { throw LoopbackPortUnavailable() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && (!listening || listen(descriptor, 16) == 0)
                    && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw LoopbackPortUnavailable()
        }
        self.descriptor = descriptor
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
    }

    deinit { close(descriptor) }
}

private struct LoopbackPortUnavailable: Error, CustomStringConvertible {
    var description: String { "cannot bind a loopback port for the test" }
}
