import Configuration
import SystemPackage
import Crypto
import Foundation

/// The Client module's settings. Keys, as in the specification, under `client.`:
///
/// | key | environment variable | default |
/// |---|---|---|
/// | `client.default_status` | `CLIENT_DEFAULT_STATUS` | `pending` (`pending` or `active`) |
/// | `client.refid_prefix` | `CLIENT_REFID_PREFIX` | `CL-` |
/// | `client.auto_bind_user` | `CLIENT_AUTO_BIND_USER` | `false` |
/// | `client.metadata_encryption_key` | `CLIENT_METADATA_ENCRYPTION_KEY` | none (base64 of 32 bytes) |
/// | `client.metadata_max_bytes` | `CLIENT_METADATA_MAX_BYTES` | `16384` |
/// | `client.metadata_max_depth` | `CLIENT_METADATA_MAX_DEPTH` | `5` |
///
/// ```swift
/// let configuration = try await ClientConfiguration.load(file: "config/client.json")
/// ```
public struct ClientConfiguration: Sendable {
    /// The status every new client starts in: `pending` or `active`.
    public var defaultStatus: ClientStatus
    /// The prefix of new client refids: 1–8 of `A–Z`, `0–9`, `-` or `_`.
    public var refidPrefix: String
    /// Whether a new client is bound to the user whose login email matches its own, when no user is given.
    public var autoBindUser: Bool
    /// Key for the encrypted metadata field (AES-256-GCM). Without one, secret metadata is refused.
    public var metadataEncryptionKey: SymmetricKey?
    /// Largest metadata object, in bytes of compact JSON.
    public var metadataMaxBytes: Int
    /// Deepest nesting of metadata (1 = a flat object).
    public var metadataMaxDepth: Int

    /// Settings from values; throws `.invalidConfiguration` for a default status other than pending or
    /// active, a malformed prefix, or metadata limits outside 256…1048576 bytes and depth 1…32.
    public init(
        defaultStatus: ClientStatus = .pending,
        refidPrefix: String = "CL-",
        autoBindUser: Bool = false,
        metadataEncryptionKey: SymmetricKey? = nil,
        metadataMaxBytes: Int = 16_384,
        metadataMaxDepth: Int = 5
    ) throws {
        guard defaultStatus == .pending || defaultStatus == .active else {
            throw ClientError(.invalidConfiguration, field: "default_status",
                              message: "Invalid configuration: client.default_status must be pending or active")
        }
        let prefixIsValid = (1...8).contains(refidPrefix.count) && refidPrefix.unicodeScalars.allSatisfy {
            ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
        guard prefixIsValid else {
            throw ClientError(.invalidConfiguration, field: "refid_prefix",
                              message: "Invalid configuration: client.refid_prefix must be 1–8 of A–Z, 0–9, '-' or '_'")
        }
        guard (256...1_048_576).contains(metadataMaxBytes), (1...32).contains(metadataMaxDepth) else {
            throw ClientError(.invalidConfiguration, field: "metadata_max_bytes",
                              message: "Invalid configuration: metadata limits must be 256…1048576 bytes and depth 1…32")
        }
        self.init(checked: defaultStatus, refidPrefix, autoBindUser, metadataEncryptionKey, metadataMaxBytes, metadataMaxDepth)
    }

    private init(checked defaultStatus: ClientStatus, _ refidPrefix: String, _ autoBindUser: Bool,
                 _ metadataEncryptionKey: SymmetricKey?, _ metadataMaxBytes: Int, _ metadataMaxDepth: Int) {
        self.defaultStatus = defaultStatus
        self.refidPrefix = refidPrefix
        self.autoBindUser = autoBindUser
        self.metadataEncryptionKey = metadataEncryptionKey
        self.metadataMaxBytes = metadataMaxBytes
        self.metadataMaxDepth = metadataMaxDepth
    }

    /// The specification's defaults: pending, `CL-`, no auto-bind, no encryption key.
    public static let defaults = ClientConfiguration(checked: .pending, "CL-", false, nil, 16_384, 5)

    /// Reads the configuration from environment variables (highest priority), then an optional
    /// JSON file such as `{"client": {"default_status": "active"}}`, then the defaults.
    /// - Parameters:
    ///   - environment: the variables to read; the process environment when nil.
    ///   - file: a JSON file path; a missing file is the same as an empty one.
    public static func load(environment: [String: String]? = nil, file: String? = nil) async throws -> ClientConfiguration {
        let env = environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider()
        var providers: [any ConfigProvider] = [env]
        if let file {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file), allowMissing: true))
            } catch {
                throw ClientError(.invalidConfiguration, message: "Invalid configuration: cannot read \(file) as JSON",
                                  detail: String(describing: error))
            }
        }
        let reader = ConfigReader(providers: providers)
        let statusText = reader.string(forKey: "client.default_status", default: "pending")
        guard let status = ClientStatus(rawValue: statusText.lowercased()) else {
            throw ClientError(.invalidConfiguration, field: "default_status",
                              message: "Invalid configuration: client.default_status must be pending or active")
        }
        var key: SymmetricKey?
        if let encoded = reader.string(forKey: "client.metadata_encryption_key", isSecret: true) {
            guard let bytes = Data(base64Encoded: encoded), bytes.count == 32 else {
                throw ClientError(.invalidConfiguration, field: "metadata_encryption_key",
                                  message: "Invalid configuration: client.metadata_encryption_key must be base64 of 32 bytes")
            }
            key = SymmetricKey(data: bytes)
        }
        return try ClientConfiguration(
            defaultStatus: status,
            refidPrefix: reader.string(forKey: "client.refid_prefix", default: "CL-"),
            autoBindUser: reader.bool(forKey: "client.auto_bind_user", default: false),
            metadataEncryptionKey: key,
            metadataMaxBytes: reader.int(forKey: "client.metadata_max_bytes", default: 16_384),
            metadataMaxDepth: reader.int(forKey: "client.metadata_max_depth", default: 5))
    }
}
