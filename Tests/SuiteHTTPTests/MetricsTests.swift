import Foundation
import HTTPTypes
import Suite
import SuiteHTTP
import SuiteTestSupport
import Testing

/// `GET /metrics`: requests by route, method and status, their latency histogram, and (PostgreSQL)
/// the connections in use, in the Prometheus text format.
@Suite struct MetricsTests {
    @Test(arguments: Engine.allCases)
    func metricsCountRequestsByRouteAndStatusAndTimeThem(engine: Engine) async throws {
        try await engine.withAPI { api, _ in
            #expect(try await api.call(.post, "/v1/clients", json: ["name": "Acme", "email": "metrics@acme.example"]).status == 201)
            #expect(try await api.call(.get, "/v1/clients/CL-NOPE").status == 404)
            let answer = try await api.call(.get, "/metrics", key: .some(nil))
            #expect(answer.status == 200 && answer.headers[.contentType]?.hasPrefix("text/plain") == true)
            let lines = answer.text.split(separator: "\n")
            let requests = lines.filter { $0.hasPrefix("hb_requests{") }
            #expect(requests.contains { $0.contains("http_route=\"/v1/clients\"") && $0.contains("http_response_status_code=\"201\"") },
                    "\(requests)")
            #expect(requests.contains { $0.contains("http_response_status_code=\"404\"") }, "\(requests)")
            #expect(lines.contains { $0.hasPrefix("http_server_request_duration_bucket{") })
            if engine == .postgres {
                #expect(lines.contains { $0.hasPrefix("clientsuite_db_connections_in_use{") })
            }
        }
    }
}
