import MoatConfig

/// Every parameter with its value as `moat-ctl cfshow` shows it, by section, the changed ones
/// marked, and one form that changes one parameter as `moat-ctl cfset` does.
enum ConfigurationPage {
    /// What the change form shows: the parameter and value asked for (kept after an error).
    struct Draft: Sendable {
        var parameter = ""
        var value = ""
        var action = "set"
    }

    static let actions: [(value: String, label: String)] = [
        ("set", "set to the value"), ("add", "add the value to the list (cfset -a)"),
        ("erase", "erase the value from the list (cfset -e)"), ("reset", "reset to the default (cfset -r)"),
    ]

    /// `writable`: false when moatd cannot write the file (it runs as `[Root] User`, the file is
    /// root's): the page then shows the values and says how to change them, without the form.
    static func render(_ config: Result<LoadedConfig, ConfigErrors>, csrf: String, draft: Draft = Draft(),
                       notice: Notice? = nil, writable: Bool = true) -> HTML {
        let values: ConfigValues
        var notice = notice
        switch config {
        case .success(let loaded):
            values = loaded.values
        case .failure(let errors):
            // The form still works: cfset refuses to edit an invalid file with the same text.
            notice = notice ?? .error("The configuration file does not load:\n" + errors.description)
            values = ConfigValues(schema: .moat)
        }
        let choices = actions.map { item -> HTML in
            item.value == draft.action ? "<option value=\"\(item.value)\" selected>\(item.label)</option>"
                                       : "<option value=\"\(item.value)\">\(item.label)</option>"
        }
        let names = values.schema.allKeys.map { key -> HTML in "<option value=\"\(key.description)\">" }
        let form: HTML = """
            <form method="post" action="/configuration" class="box" id="change">
            <input type="hidden" name="csrf" value="\(csrf)">
            <label>Parameter (Section.Param) <input name="parameter" list="parameters" value="\(draft.parameter)" required></label>
            <datalist id="parameters">\(names)</datalist>
            <label>Change <select name="action">\(choices)</select></label>
            <label>Value <input name="value" value="\(draft.value)"></label>
            <button>Apply</button>
            </form>
            """
        var sections: [HTML] = []
        for section in values.schema.sections {
            let rows = section.parameters.map { spec -> HTML in
                let key = ParameterKey(section.name, spec.name)
                let shown = values.shownLinesHidingSecrets(key, valueOnly: true).joined(separator: "\n")
                let changed = values.isChanged(key)
                let edit = "/configuration?parameter=\(key.description)#change"
                return """
                    <tr\(HTML(trusted: changed ? " class=\"changed\"" : ""))><td><a href="\(edit)">\(key.description)</a></td>\
                    <td class="value">\(shown)</td><td class="value">\(spec.defaultText)</td><td>\(spec.summary)</td></tr>
                    """
            }
            sections.append("""
                <h2 id="\(section.name)">[\(section.name)]</h2><p>\(section.summary)</p>
                <table><tr><th>Parameter</th><th>Value</th><th>Default</th><th>Meaning</th></tr>\(rows)</table>
                """)
        }
        let content: HTML = writable
            ? "<p>Changes are written to the configuration file and moatd reloads it.</p>\(form)\(sections)"
            : """
              <p>The configuration file is writable by root only, and moatd runs unprivileged: change a parameter \
              with <code>moat-ctl cfset Section.Param value</code> as root, and moatd reloads it.</p>\(sections)
              """
        return Layout.page(title: "Configuration", path: "/configuration", csrf: csrf, notice: notice, content: content)
    }
}
