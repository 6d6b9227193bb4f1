/// moat.ini(5): the manual page of the configuration file, generated from the schema like the
/// README's reference (`moat-ctl config-reference --man`; scripts/package.sh installs it).
extension SchemaDocument {
    public static func manPage(_ schema: Schema, version: String) -> String {
        var out = """
        .TH MOAT.INI 5 "" "Moat \(version)" "Moat Manual"
        .SH NAME
        moat.ini \\- configuration file of the Moat mail\\-security gateway
        .SH SYNOPSIS
        .B /etc/moat/moat.ini
        .SH DESCRIPTION
        \\fBmoatd\\fR(8) reads its settings from one INI file: \\fB/etc/moat/moat.ini\\fR, or the file
        named by \\fB\\-\\-config\\fR or \\fB$MOAT_CONFIG\\fR. Section and parameter names follow those of
        Dr.Web for UNIX mail servers, so an existing file carries over; parameters Dr.Web has and Moat
        does not are read past with a warning.
        .PP
        Names and enumerated values are case\\-insensitive. A list takes either one line
        \\fIParam = "a", "b"\\fR or the parameter repeated on several lines; rule sets may also be
        numbered (\\fIMilterRuleSet0\\fR, \\fIMilterRuleSet1\\fR, ...). Durations are written
        \\fI30s\\fR, \\fI5m\\fR, \\fI1h\\fR, \\fI1d\\fR or \\fI500ms\\fR; sizes \\fI512kb\\fR, \\fI10mb\\fR,
        \\fI1gb\\fR or a number of bytes.
        .PP
        \\fBmoat\\-ctl\\fR(1) \\fBcfset\\fR changes one parameter, keeping the file's comments and layout,
        and makes a running moatd reload; \\fBmoat\\-ctl cfshow\\fR prints the values in force. A file that
        does not validate stops moatd at start (exit code 78) and is refused as a whole by a reload.
        The file is root's: mode 0640, group moat, so moatd (which runs as \\fBUser\\fR) reads it and
        only root writes it.

        """
        for section in schema.sections {
            out += ".SH [\(section.name)]\n"
            out += roff(section.summary + ".") + "\n"
            for p in section.parameters {
                out += ".TP\n.B \(p.name)\n"
                let defaultText = p.defaultText.isEmpty ? "empty"
                    : p.defaultText.split(separator: "\n").joined(separator: "; ")
                out += roff(p.summary + ".") + "\n.br\n"
                out += "Default: \\fI" + roff(defaultText) + "\\fR. Form: " + roff(p.type.expectedForm) + ".\n"
            }
        }
        out += """
        .SH FILES
        .TP
        .B /etc/moat/moat.ini
        The configuration file.
        .TP
        .B /var/lib/moat
        \\fBVarDir\\fR: Moat's CA (\\fIca/\\fR), the console's password and certificate
        (\\fIconsole/\\fR), the anti\\-spam model (\\fIantispam/\\fR), spool files.
        .TP
        .B /run/moat
        The control socket and \\fBTempDir\\fR.
        .SH SEE ALSO
        \\fBmoatd\\fR(8), \\fBmoat\\-ctl\\fR(1)

        """
        return out
    }

    /// Text made safe for roff: backslashes escaped, no line starting with a control character,
    /// every hyphen an ASCII minus (`\-`), so options and paths copy from the page as typed.
    static func roff(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        return escaped.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : String(line)
        }.joined(separator: "\n")
    }
}
