/// What a commit the database reported survives: the engine's setting as read back from the
/// connection that writes, and what that setting guarantees, in words a user can act on.
///
/// ```swift
/// let durability = try await database.commitDurability()
/// print(durability)   // synchronous=FULL: every commit is on disk before it is reported (survives power loss)
/// ```
public struct CommitDurability: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The setting in force, e.g. `synchronous=FULL` or `synchronous_commit=on, fsync=on`.
    public var setting: String
    /// What a reported commit survives.
    public var guarantee: String

    /// A durability as an engine reports it.
    public init(setting: String, guarantee: String) {
        self.setting = setting
        self.guarantee = guarantee
    }

    /// `setting: guarantee`, as `dock install` prints it.
    public var description: String { "\(setting): \(guarantee)" }
}
