// LicenceCheck: an app in the field checks its licence key against `dock serve` and, when the
// server cannot be reached, falls back to its signed licence token, verified offline with the
// server's public keys (cached from the last online check). README.md beside this file shows how
// to try it.
//
//   swift run LicenceCheck --server http://127.0.0.1:8080 --api-key csk_… --key 7QK2M-X4T9B-… \
//       --token licence-token.json --keys licence-keys.json
//
// Exit status: 0 valid, 1 invalid, 2 undecided (server unreachable and no usable token or keys),
// 3 refused (the server turned the request down: a wrong API key or URL).

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SuiteCore

/// The command: ask the server first; only when it cannot be reached, check the offline token.
///
/// A server that answers always has the last word — a revoked licence is invalid online even if
/// its token would still verify offline (an offline check cannot learn of a revocation).
@main
struct LicenceCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LicenceCheck",
        abstract: "Check a licence key against dock serve; when the server cannot be reached, check the signed token offline.",
        discussion: """
            Prints one line: `valid: …`, `invalid: <code>`, `valid (offline): …` or `invalid (offline): <code>`. \
            Exit status: 0 valid, 1 invalid, 2 undecided (the server cannot be reached and there is no usable \
            token or public keys), 3 refused (the server turned the request down: a wrong API key or URL).
            """)

    @Option(help: "The base URL of dock serve.") var server = "http://127.0.0.1:8080"
    @Option(help: "A verify key, from `dock apikey create --verify`.") var apiKey: String
    @Option(help: "The licence key to check.") var key: String
    @Option(help: "The signed token for offline checks: the bare CSL1.… text or the JSON of `dock forge sign --json`.")
    var token: String?
    @Option(help: "The public key set that verifies the token: read offline, rewritten after each valid online check.")
    var keys: String?
    @Option(help: "The licence refid (LC-…) the offline token must name: a token names its licence, not its key.")
    var licence: String?
    @Option(help: "Seconds to wait for the server before checking offline.") var timeout: Double = 3

    func validate() throws {
        guard serverURL != nil else { throw ValidationError("--server must be an http:// or https:// URL, e.g. http://127.0.0.1:8080") }
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be over 0 and at most 600 seconds") }
    }

    func run() async throws {
        let verdict: Verdict
        do {
            verdict = try await check()
        } catch {
            report("error: \(error.message)")
            throw ExitCode(error.status.rawValue)
        }
        print(verdict.line)
        if verdict.status != .valid { throw ExitCode(verdict.status.rawValue) }
    }

    /// The server's answer, or the offline token's when the server cannot be reached.
    private func check() async throws(CheckFailure) -> Verdict {
        let wait = TimeAmount.milliseconds(Int64(timeout * 1000))
        var configuration = HTTPClient.Configuration(timeout: .init(connect: wait, read: wait))
        // Fail at once on a refused connection: retrying until the deadline would only delay the offline check.
        configuration.connectionPool.retryConnectionEstablishment = false
        guard let url = serverURL else { throw CheckFailure(.refused, "--server must be an http:// or https:// URL") }  // validate() saw to it
        let server = LicenceServer(url: url, apiKey: apiKey, timeout: wait)
        let online: Result<OnlineVerification, ServerFailure>
        do {
            online = try await HTTPClient.withHTTPClient(configuration: configuration) { client in
                do throws(ServerFailure) {
                    let answer = try await server.verify(key, with: client)
                    if answer.isValid, let keys { await refreshKeys(in: keys, from: server, with: client) }
                    return .success(answer)
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            // Only the client's shutdown can throw here; the answer was already in hand or lost.
            online = .failure(.unreachable("the HTTP client failed"))
        }
        switch online {
        case .success(let answer):
            return answer.verdict
        case .failure(.refused(let status, let detail)):
            throw CheckFailure(.refused, "\(server.url) refused the request (\(status)): \(detail)")
        case .failure(.unreachable(let reason)):
            let offline = OfflineCheck(tokenFile: token, keysFile: keys, licence: licence, clock: SystemWallClock())
            do {
                let verdict = try offline.check(key: key)
                report("note: cannot reach \(server.url) (\(reason)); checked the offline token")
                return verdict
            } catch {
                throw CheckFailure(.undecided, "Cannot reach \(server.url) (\(reason)), and \(error.message)")
            }
        }
    }

    /// Rewrites the cached key set with the server's, so that tokens signed by a new key verify
    /// offline too. A failure here does not change the verdict: the old set stays.
    private func refreshKeys(in file: String, from server: LicenceServer, with client: HTTPClient) async {
        do {
            let keySet = try await server.publicKeys(with: client)
            // A server without a signing key serves no keys; keep the last ones rather than none.
            guard !keySet.keys.isEmpty else { return }
            try KeySetFile(path: file).write(keySet)
        } catch let failure as ServerFailure {
            report("warning: could not refresh the public keys in \(file): \(failure.message)")
        } catch {
            report("warning: could not write the public keys to \(file)")
        }
    }

    /// `--server` without a trailing slash, when it is an http(s) URL with a host.
    private var serverURL: String? {
        let text = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else { return nil }
        return text
    }
}

/// How a check ended; the raw value is the exit status.
enum CheckStatus: Int32 {
    /// The licence is valid, online or by its token.
    case valid = 0
    /// The server says the licence is not valid, or the offline token is bad, expired or for another licence.
    case invalid = 1
    /// The server cannot be reached and there is no usable token or public key set to decide with.
    case undecided = 2
    /// The server answered but turned the request down (401: a wrong API key; 404: a wrong URL or key role).
    case refused = 3
}

/// The line a check prints on stdout, and its exit status.
struct Verdict {
    /// E.g. `valid: licence LC-… (pro-1y), expires 2027-12-05`.
    var line: String
    /// The exit status.
    var status: CheckStatus
}

/// A check that ended without a verdict: one line on stderr, and an exit status.
struct CheckFailure: Error {
    /// Why there is no verdict.
    var status: CheckStatus
    /// What went wrong, safe to show.
    var message: String

    /// A failure with `status` and a one-line `message`.
    init(_ status: CheckStatus, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Writes `line` to stderr.
func report(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

extension Date {
    /// The calendar day in UTC, e.g. `2027-12-05`.
    var day: String { formatted(.iso8601.year().month().day()) }
}
