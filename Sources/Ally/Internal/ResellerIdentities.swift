import Synchronization
import SuiteCore

/// Each reseller's row id and wallet, remembered once a transaction that read them has committed:
/// neither ever changes, and resellers are never deleted. (The status does change, so it is never
/// remembered: a provision checks it inside its debit.)
final class ResellerIdentities: Sendable {
    struct Identity: Sendable {
        let id: Int64
        let wallet: Refid
    }

    /// Past this many entries the cache starts again empty.
    static let capacity = 50_000

    private let state = Mutex<[Refid: Identity]>([:])

    func identity(of reseller: Refid) -> Identity? {
        state.withLock { $0[reseller] }
    }

    func remember(_ identity: Identity, for reseller: Refid) {
        state.withLock { state in
            if state.count >= Self.capacity { state = [:] }
            state[reseller] = identity
        }
    }
}
