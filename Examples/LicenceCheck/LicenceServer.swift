import AsyncHTTPClient
import Forge
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SuiteCore

/// `dock serve` as an app in the field sees it: licence verification and the public key set,
/// reached with a verify key (see Sources/SuiteHTTP/openapi.yaml).
struct LicenceServer {
    /// The base URL, without a trailing slash.
    let url: String
    /// The verify key, sent as `Authorization: Bearer …`.
    let apiKey: String
    /// How long a request may take, connection included.
    let timeout: TimeAmount

    /// `POST /v1/licences/verify`: the server's word on `key`.
    func verify(_ key: String, with client: HTTPClient) async throws(ServerFailure) -> OnlineVerification {
        let body = Data(#"{"key":\#(Self.jsonString(key))}"#.utf8)
        let data = try await send(.POST, "/v1/licences/verify", body: body, with: client)
        guard let answer = try? SuiteJSON.decoder().decode(OnlineVerification.self, from: data) else {
            throw ServerFailure.unreachable("its answer is not a licence verification")
        }
        return answer
    }

    /// `GET /v1/licences/keys`: the public keys that verify the server's tokens.
    func publicKeys(with client: HTTPClient) async throws(ServerFailure) -> KeySet {
        let data = try await send(.GET, "/v1/licences/keys", body: nil, with: client)
        guard let keySet = try? SuiteJSON.decoder().decode(KeySet.self, from: data) else {
            throw ServerFailure.unreachable("its answer is not a public key set")
        }
        return keySet
    }

    /// Sends a request and returns the body of a 2xx answer. A 5xx answer, like no answer at all,
    /// means the server cannot be asked now; any other status means it refused the request.
    private func send(_ method: HTTPMethod, _ path: String, body: Data?, with client: HTTPClient) async throws(ServerFailure) -> Data {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let status: HTTPResponseStatus
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw ServerFailure.unreachable(Self.reason(for: error))
        }
        let data = Data(bytes.readableBytesView)
        switch status.code {
        case 200..<300:
            return data
        case 500...:
            throw ServerFailure.unreachable("it answered \(status.code) \(status.reasonPhrase)")
        default:
            // The problem's detail is written to be shown (RFC 9457, see Problem in SuiteHTTP).
            let detail = (try? JSONDecoder().decode(ProblemDetail.self, from: data))?.detail ?? status.reasonPhrase
            throw ServerFailure.refused(status: Int(status.code), detail: detail)
        }
    }

    /// A few words for why a request got no answer, without the client library's type names.
    private static func reason(for error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "the request failed"
            }
        }
        if let error = error as? IOError {
            return Self.describe(errno: error.errnoCode)
        }
        if let error = error as? NIOConnectionError {
            // One attempt per address of the host; the first says enough.
            if let attempt = error.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first {
                return Self.describe(errno: attempt.errnoCode)
            }
            if error.connectionErrors.isEmpty { return "its host name does not resolve" }
        }
        return "the connection failed"
    }

    /// The system's words for `errno`, e.g. `connection refused`.
    private static func describe(errno: Int32) -> String {
        String(cString: strerror(errno)).lowercased()
    }

    /// `text` as a JSON string literal.
    private static func jsonString(_ text: String) -> String {
        // Encoding a String cannot fail.
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data(#""""#.utf8), as: UTF8.self)
    }
}

/// Why the server gave no verdict.
enum ServerFailure: Error {
    /// No usable answer: no connection, no answer in time, a 5xx, or a body that is not the API's.
    /// The app falls back to its offline token.
    case unreachable(String)
    /// The server answered and turned the request down (a 4xx): a wrong API key, URL or key role.
    case refused(status: Int, detail: String)

    /// One line, safe to show.
    var message: String {
        switch self {
        case .unreachable(let reason): "cannot reach the server (\(reason))"
        case .refused(let status, let detail): "the server refused the request (\(status)): \(detail)"
        }
    }
}

/// What `POST /v1/licences/verify` answers: `{"code": …, "is_valid": …, "licence": {…} or null}`.
struct OnlineVerification: Decodable {
    /// `valid`, `malformed`, `notFound`, `pending`, `expired`, `revoked` or `clientSuspended`. Read
    /// as text, so that a code added later still reads (and, with `is_valid` false, is invalid).
    var code: String
    /// Whether the licence is valid: the server decides, not the code's spelling.
    var isValid: Bool
    /// The licence the key belongs to; nil when none has this key.
    @ExplicitNull var licence: Licence?

    /// The line and exit status for this answer.
    var verdict: Verdict {
        guard isValid, let licence else {
            return Verdict(line: "invalid: \(code)" + (licence.map { " (licence \($0.refid))" } ?? ""), status: .invalid)
        }
        let term = licence.expiresAt.map { "expires \($0.day)" } ?? "lifetime"
        return Verdict(line: "valid: licence \(licence.refid) (\(licence.product)), \(term)", status: .valid)
    }
}

/// The public key set: what `GET /v1/licences/keys` serves and what the app caches on disk.
struct KeySet: Codable {
    /// The trusted keys.
    var keys: [LicencePublicKey]
}

/// The part of an RFC 9457 problem answer that is shown to people.
private struct ProblemDetail: Decodable {
    var detail: String
}
