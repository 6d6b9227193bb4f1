import Foundation
import Hummingbird
import MoatService
import Storage

/// The quarantine, the message log and the statistics: each route reads the request, asks
/// the daemon's storage service (the same calls `moat-ctl quarantine` and `log search` make)
/// and renders a page.
extension ConsoleRoutes {
    func addStorageRoutes(to router: Router<ConsoleContext>) {
        router.get("/quarantine", use: quarantine)
        router.get("/quarantine/item", use: quarantineItem)
        router.post("/quarantine/release", use: release)
        router.post("/quarantine/delete", use: delete)
        router.get("/log", use: messageLog)
        router.get("/statistics", use: statistics)
    }

    static func text(_ request: Request, _ name: String) -> String {
        String((request.uri.queryParameters[Substring(name)] ?? "").prefix(500))
    }

    static func optional(_ text: String) -> String? { text.isEmpty ? nil : text }

    @Sendable func quarantine(_ request: Request, context: ConsoleContext) async throws -> Response {
        let search = QuarantinePage.Search(sender: Self.text(request, "sender"), recipient: Self.text(request, "recipient"),
                                           messageId: Self.text(request, "message_id"))
        let query = QuarantineQuery(sender: Self.optional(search.sender), recipient: Self.optional(search.recipient),
                                    messageId: Self.optional(search.messageId), limit: 200)
        do {
            let records = try await service.quarantineList(query)
            return Responses.html(QuarantinePage.render(records, search: search, csrf: context.csrf))
        } catch {
            return Responses.html(QuarantinePage.render([], search: search, csrf: context.csrf, notice: .error("\(error)")),
                                  status: .serviceUnavailable)
        }
    }

    @Sendable func quarantineItem(_ request: Request, context: ConsoleContext) async throws -> Response {
        await item(id: Self.text(request, "id"), context: context)
    }

    func item(id: String, context: ConsoleContext, notice: Notice? = nil) async -> Response {
        do {
            let detail = try await service.quarantineShow(id: id)
            return Responses.html(QuarantinePage.item(detail, csrf: context.csrf, notice: notice))
        } catch {
            return Responses.html(QuarantinePage.render([], search: .init(), csrf: context.csrf, notice: .error("\(error)")),
                                  status: .notFound)
        }
    }

    /// Who did it, for the released message's header and the log: the console user and address.
    static func actor(_ context: ConsoleContext) -> String {
        "\(context.session?.user ?? "admin") (console, \(context.client))"
    }

    @Sendable func release(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Form.body(of: request)
        let id = form["id"] ?? ""
        do {
            let outcome = try await service.quarantineRelease(id: id, by: Self.actor(context))
            logger.notice("console: quarantined message released", metadata: ["id": "\(id)", "client": "\(context.client)"])
            let text = "Released to \(outcome.relay): accepted for \(outcome.accepted.joined(separator: ", "))"
                + (outcome.refused.isEmpty ? "." : "; refused for \(outcome.refused.joined(separator: ", ")).")
            return await item(id: id, context: context, notice: .info(text))
        } catch {
            return await item(id: id, context: context, notice: .error("Not released: \(error)"))
        }
    }

    @Sendable func delete(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Form.body(of: request)
        let id = form["id"] ?? ""
        do {
            try await service.quarantineDelete(id: id, by: Self.actor(context))
            logger.notice("console: quarantined item deleted", metadata: ["id": "\(id)", "client": "\(context.client)"])
            let records = (try? await service.quarantineList(QuarantineQuery(limit: 200))) ?? []
            return Responses.html(QuarantinePage.render(records, search: .init(), csrf: context.csrf, notice: .info("Deleted \(id).")))
        } catch {
            return await item(id: id, context: context, notice: .error("Not deleted: \(error)"))
        }
    }

    @Sendable func messageLog(_ request: Request, context: ConsoleContext) async throws -> Response {
        let search = MessageLogPage.Search(
            sender: Self.text(request, "sender"), recipient: Self.text(request, "recipient"),
            messageId: Self.text(request, "message_id"), verdict: Self.text(request, "verdict"),
            since: Self.text(request, "since"), until: Self.text(request, "until"))
        let limit = 500
        for (name, value) in [("Since", search.since), ("Until", search.until)] where !value.isEmpty && MessageLogPage.date(value) == nil {
            return Responses.html(MessageLogPage.render([], search: search, limit: limit, csrf: context.csrf,
                                                        notice: .error("\(name): \(value) is not a date such as 2026-12-06T10:00")),
                                  status: .badRequest)
        }
        let query = LogQuery(sender: Self.optional(search.sender), recipient: Self.optional(search.recipient),
                             messageId: Self.optional(search.messageId), verdict: Self.optional(search.verdict),
                             since: MessageLogPage.date(search.since), until: MessageLogPage.date(search.until), limit: limit)
        do {
            let entries = try await service.logSearch(query)
            return Responses.html(MessageLogPage.render(entries, search: search, limit: limit, csrf: context.csrf))
        } catch {
            return Responses.html(MessageLogPage.render([], search: search, limit: limit, csrf: context.csrf, notice: .error("\(error)")),
                                  status: .serviceUnavailable)
        }
    }

    @Sendable func statistics(_ request: Request, context: ConsoleContext) async throws -> Response {
        let now = Date(), week = now.addingTimeInterval(-7 * 86400)
        let recentLimit = 20_000
        do {
            let hourly = try await service.statistics(since: week, until: now)
            let recent = try await service.logSearch(LogQuery(since: week, limit: recentLimit))
            return Responses.html(StatisticsPage.render(hourly: hourly, recent: recent, recentLimit: recentLimit, now: now,
                                                        csrf: context.csrf))
        } catch {
            return Responses.error(.serviceUnavailable, "\(error)")
        }
    }
}
