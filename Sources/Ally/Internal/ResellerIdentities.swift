import SuiteCore

/// Each reseller's row id and wallet, remembered once a transaction that read them has committed:
/// neither ever changes, and resellers are never deleted. (The status does change, so it is never
/// remembered: a provision checks it inside its debit.)
final class ResellerIdentities: Sendable {
    struct Identity: Sendable {
        let id: Int64
        let wallet: Refid
    }

    private let known = RememberedFacts<Refid, Identity>()

    func identity(of reseller: Refid) -> Identity? { known[reseller] }

    func remember(_ identity: Identity, for reseller: Refid) { known.remember(identity, for: reseller) }
}
