/// The open transaction a boundary lookup runs in. `SuiteStorage.Transaction` refines it; a
/// storage-backed implementation of a boundary protocol casts it back with
/// `transaction as? any Transaction` to read inside the caller's transaction.
public protocol TransactionContext: AnyObject {}
