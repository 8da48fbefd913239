public import SuiteCore

extension Products {
    /// The product named by `text`: its refid when it starts with `PR-`, else its slug. Throws
    /// "Product Not Found" if there is none.
    ///
    /// ```swift
    /// let product = try await products.find(refidOrSlug: "pro-1y")
    /// ```
    public func find(refidOrSlug text: String) async throws -> Product {
        let found = text.hasPrefix("PR-") ? try await findByRefid(Refid(rawValue: text)) : try await findBySlug(text)
        guard let found else { throw WaveError.notFound("product", text) }
        return found
    }
}

extension Invoices {
    /// The invoice named by `text`: its number when it starts with `INV-`, else its refid. Throws
    /// "Invoice Not Found" if there is none.
    ///
    /// ```swift
    /// let invoice = try await invoices.find(refidOrNumber: "INV-2026-0001")
    /// ```
    public func find(refidOrNumber text: String) async throws -> Invoice {
        let found = text.hasPrefix("INV-") ? try await findByNumber(text) : try await findByRefid(Refid(rawValue: text))
        guard let found else { throw WaveError.notFound("invoice", text) }
        return found
    }
}

extension Plans {
    /// The plan named by `text`: its refid when it starts with `PL-`, else its slug. Throws
    /// "Plan Not Found" if there is none.
    ///
    /// ```swift
    /// let plan = try await subscriptions.plans.find(refidOrSlug: "pro-monthly")
    /// ```
    public func find(refidOrSlug text: String) async throws -> Plan {
        let found = text.hasPrefix("PL-") ? try await findByRefid(Refid(rawValue: text)) : try await findBySlug(text)
        guard let found else { throw WaveError.notFound("plan", text) }
        return found
    }
}
