import Foundation

/// A message above a page's content.
enum Notice: Sendable {
    case info(String)
    case error(String)
}

/// The frame of every page after login: the navigation, the reload and logout buttons (POST
/// forms carrying the session's CSRF token), and the page's content. No scripts anywhere; the
/// stylesheet is `/console.css`, the only source the Content-Security-Policy allows.
enum Layout {
    static let sections: [(path: String, title: String)] = [
        ("/", "Status"), ("/configuration", "Configuration"), ("/threats", "Threats"),
        ("/quarantine", "Quarantine"), ("/log", "Message log"), ("/statistics", "Statistics"),
        ("/archive-password", "Archive password"),
    ]

    static func page(title: String, path: String, csrf: String, notice: Notice? = nil, content: HTML) -> HTML {
        let links = sections.map { item -> HTML in
            item.path == path ? "<a href=\"\(item.path)\" aria-current=\"page\">\(item.title)</a>"
                              : "<a href=\"\(item.path)\">\(item.title)</a>"
        }
        let nav: HTML = """
            <nav>\(links)<a href="/ca.pem">CA certificate</a>
            <form method="post" action="/reload" class="inline"><input type="hidden" name="csrf" value="\(csrf)"><button>Reload</button></form>
            <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="\(csrf)"><button>Log out</button></form>
            </nav>
            """
        return document(title: title, body: nav + "<main><h1>\(title)</h1>\(notice.map(render) ?? "")\(content)</main>")
    }

    static func document(title: String, body: HTML) -> HTML {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) - Moat</title><link rel="stylesheet" href="/console.css"></head>
        <body>\(body)</body></html>

        """
    }

    static func render(_ notice: Notice) -> HTML {
        switch notice {
        case .info(let text): "<p class=\"notice\">\(text)</p>"
        case .error(let text): "<pre class=\"error\" role=\"alert\">\(text)</pre>"
        }
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = .current
        return formatter.string(from: date)
    }

    static let stylesheet = """
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2630; background: #f6f7f9; }
        nav { background: #1d3b53; padding: .5em 1em; display: flex; flex-wrap: wrap; gap: .4em 1.2em; align-items: center; }
        nav a { color: #fff; text-decoration: none; } nav a[aria-current] { font-weight: bold; text-decoration: underline; }
        nav form.inline { margin: 0; } nav form.inline:first-of-type { margin-left: auto; }
        main { padding: 1em 2em; max-width: 80em; }
        figure.chart { margin: 1em 0 2em; } figure.chart svg { max-width: 100%; height: auto; background: #fff; border: 1px solid #d5d9df; }
        figure.chart figcaption { font-weight: 600; margin-bottom: .3em; } .legend { margin-right: 1em; font-size: 13px; }
        table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1.5em; }
        th, td { border: 1px solid #d5dae0; padding: .3em .5em; text-align: left; vertical-align: top; }
        th { background: #e9edf1; } td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
        tr.changed td:first-child::after { content: " (changed)"; color: #a05a00; font-size: .85em; }
        .state-running { color: #16702e; } .state-failed { color: #b00020; } .state-off, .state-unavailable, .state-starting { color: #6b7280; }
        .notice { background: #e5f4e8; border-left: 4px solid #16702e; padding: .5em 1em; }
        .error { background: #fdecee; border-left: 4px solid #b00020; padding: .5em 1em; white-space: pre-wrap; font: inherit; }
        form.box { background: #fff; border: 1px solid #d5dae0; padding: 1em; margin-bottom: 1.5em; display: grid; gap: .6em; max-width: 40em; }
        label { display: grid; gap: .2em; } input, select, button { font: inherit; padding: .3em .5em; }
        code.password { font-size: 1.3em; background: #fff; padding: .2em .5em; border: 1px solid #d5dae0; user-select: all; }
        .login { max-width: 22em; margin: 4em auto; }
        """
}
