public import SuiteCore

import Ally
import Client
import Forge
public import SuiteStorage
import Wallet
import Wave

/// A module a ``ClientSuite`` can be made of. The names are the ones `dock install` takes.
public enum SuiteModule: String, CaseIterable, Comparable, Codable, Sendable {
    /// Clients, their lifecycle and analytics (``Clients``).
    case client
    /// The double-entry ledger that holds credits and client wallets (``Ledger``).
    case wallet
    /// Resellers, their tiers and credit wallets (``Allies``); needs the wallet.
    case ally
    /// Licences and their keys (``Licences``).
    case forge
    /// Products, invoices, payments and subscriptions; needs the wallet.
    case wave
    /// The two end-to-end workflows (reseller provisioning and standalone purchase); needs every other module.
    case workflow

    /// The module's tables and migrations.
    public var schema: ModuleSchema {
        switch self {
        case .client: Clients.schema
        case .wallet: Ledger.schema
        case .ally: Allies.schema
        case .forge: Licences.schema
        case .wave: WaveModule.schema
        case .workflow: Workflows.schema
        }
    }

    /// The modules this one needs beside it (Ally keeps its credits, and Wave its client
    /// wallets, in the Wallet ledger; the workflows compose all four).
    public var dependencies: [SuiteModule] {
        switch self {
        case .client, .wallet, .forge: []
        case .ally, .wave: [.wallet]
        case .workflow: [.client, .wallet, .ally, .forge, .wave]
        }
    }

    /// `modules` with everything they need, in installation order (dependencies first).
    public static func closure(of modules: some Sequence<SuiteModule>) -> [SuiteModule] {
        var chosen: [SuiteModule] = []
        for module in modules {
            for needed in module.dependencies + [module] where !chosen.contains(needed) { chosen.append(needed) }
        }
        return chosen
    }

    /// The name for a message (`the Ally module`).
    var title: String {
        switch self {
        case .client: "Client"
        case .wallet: "Wallet"
        case .ally: "Ally"
        case .forge: "Forge"
        case .wave: "Wave"
        case .workflow: "workflow"
        }
    }

    /// Whether `lhs` comes before `rhs` in installation order (``allCases`` order).
    public static func < (lhs: SuiteModule, rhs: SuiteModule) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A failure to compose a suite: a module asked for that the suite was not built with, or that
/// the database does not have installed.
public struct SuiteError: CodedError, Equatable {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `module_not_enabled`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// The suite was opened without the module (`ClientSuite.open(…, modules:)` did not name it,
        /// or the database does not have it installed).
        public static let moduleNotEnabled = Code("module_not_enabled")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }


    /// Why a suite lacks a module.
    enum Absence: Sendable {
        /// The suite was opened with every module its database has installed.
        case notInstalled
        /// The caller chose the modules.
        case notChosen
    }

    static func notEnabled(_ module: SuiteModule, _ absence: Absence) -> SuiteError {
        switch absence {
        case .notInstalled:
            SuiteError(.moduleNotEnabled, message: "the \(module.rawValue) module is not installed in this database "
                       + "(run `dock install \(module.rawValue)`)")
        case .notChosen:
            SuiteError(.moduleNotEnabled, message: "the \(module.title) module is not part of this suite "
                       + "(open the suite with modules: [.\(module.rawValue)])")
        }
    }
}
