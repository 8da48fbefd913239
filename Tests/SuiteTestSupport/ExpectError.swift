public import SuiteCore
public import Testing

/// Runs `body`, expecting it to throw an `E` whose code is `code`; records an issue (at the
/// caller's line) when it returns, throws another type, or throws another code. Returns the error
/// for further checks. One helper for every module's error, through their shared shape.
@discardableResult
public func expectError<E: CodedError, T>(_ code: E.Code, as type: E.Type = E.self, _ body: () async throws -> T,
                                          sourceLocation: SourceLocation = #_sourceLocation) async -> E? {
    do {
        _ = try await body()
        Issue.record("expected \(E.self) \(code)", sourceLocation: sourceLocation)
        return nil
    } catch let error as E {
        #expect(error.code == code, "\(error.debugDescription)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(E.self) \(code), got \(String(reflecting: error))", sourceLocation: sourceLocation)
        return nil
    }
}
