import Foundation
import SuiteSQLite
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

/// The ledger on a SQLite file whose disk fills up (a small tmpfs of its own).
@Suite struct LedgerDiskFullFaultTests {
    /// Transfers until the disk is full: the one that fails is a typed error and moves nothing;
    /// once space is freed the file opens again, reconciles, and takes transfers.
    @Test func aFullDiskFailsOneTransferWholeAndTheLedgerReconcilesAndResumes() async throws {
        let filesystem = try SmallFilesystem(kilobytes: 1_024)
        defer { filesystem.remove() }
        let path = "\(filesystem.path)/ledger.sqlite"
        let database = try SQLiteDatabase(path: path)
        try await Ledger.install(on: database)
        let ledger = Ledger(database: database)
        let wallet = try await ledger.account(owner: "RS-FULL", unit: .credits)
        let revenue = try await ledger.system(.revenue, unit: .credits)
        try await ledger.issue(1_000_000_000, to: wallet.refid, description: "Top-up")
        // A filler takes most of the free space, so the ledger fills the rest quickly.
        let filler = "\(filesystem.path)/filler"
        try Data(repeating: 7, count: 600 * 1_024).write(to: URL(fileURLWithPath: filler))
        let padding = String(repeating: "x", count: 400)
        var moved: Int64 = 0
        var failure: StorageError?
        while failure == nil && moved < 100_000 {
            do {
                _ = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 1, description: "Spend \(moved) \(padding)")
                moved += 1
            } catch let error as StorageError {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect(error.code == .diskFull, "\(error.debugDescription)")
        #expect(moved > 0)
        // Nothing partial: the balance is exactly what the committed transfers moved.
        #expect(try await ledger.account(wallet.refid).balance == 1_000_000_000 - moved)
        try await database.close()

        try FileManager.default.removeItem(atPath: filler)
        let reopened = try SQLiteDatabase(path: path)
        let again = Ledger(database: reopened)
        let report = try await again.reconcile()
        #expect(report.isClean && report.totalsByUnit["credits"] == 0)
        _ = try await again.transfer(from: wallet.refid, to: revenue.refid, amount: 1, description: "After")
        #expect(try await again.account(wallet.refid).balance == 1_000_000_000 - moved - 1)
        try await reopened.close()
    }
}
