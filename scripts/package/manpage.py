#!/usr/bin/env python3
"""A manual page (roff) for one of Moat's executables, made from its own help: the JSON that
swift-argument-parser prints with --experimental-dump-help (abstract, discussion, arguments,
options, subcommands with theirs), then the hand-written sections of EXTRA (FILES, SIGNALS,
EXIT STATUS, SEE ALSO, ...), which the help has no place for.

    manpage.py EXECUTABLE SECTION EXTRA VERSION > page
"""
import json
import subprocess
import sys


def roff(text):
    """Text safe in roff: backslashes escaped, hyphens as minus signs (so options copy as
    typed), no line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def paragraphs(text):
    """Discussion text: blank lines are new paragraphs."""
    out = []
    for block in text.strip().split("\n\n"):
        out.append(".PP\n" + roff(block.strip()))
    return "\n".join(out)


def name_of(argument):
    names = argument.get("names") or []
    spelled = []
    for name in names:
        prefix = {"long": "--", "short": "-", "longWithSingleDash": "-"}[name["kind"]]
        spelled.append(prefix + name["name"])
    return spelled


def synopsis(command, path):
    words = ["\\fB" + roff(" ".join(path)) + "\\fR"]
    for argument in command.get("arguments") or []:
        if not argument.get("shouldDisplay", True) or argument["kind"] == "positional":
            continue
        if "help" in [n["name"] for n in argument.get("names") or []]:
            continue
        spelled = name_of(argument)
        if not spelled:
            continue
        word = "\\fB" + roff(spelled[0]) + "\\fR"
        if argument["kind"] == "option":
            word += " \\fI" + roff(argument.get("valueName") or "value") + "\\fR"
        words.append("[" + word + "]" if argument.get("isOptional", True) else word)
    for argument in command.get("arguments") or []:
        if argument["kind"] == "positional" and argument.get("shouldDisplay", True):
            word = "\\fI" + roff(argument.get("valueName") or "arg") + "\\fR"
            if argument.get("isRepeating"):
                word += " ..."
            words.append("[" + word + "]" if argument.get("isOptional") else word)
    return " ".join(words)


def arguments(command):
    out = []
    for argument in command.get("arguments") or []:
        if not argument.get("shouldDisplay", True):
            continue
        spelled = name_of(argument)
        if "--help" in spelled and out:
            continue  # said once, under the command itself
        if argument["kind"] == "positional":
            label = "\\fI" + roff(argument.get("valueName") or "arg") + "\\fR"
        else:
            label = ", ".join("\\fB" + roff(s) + "\\fR" for s in spelled)
            if argument["kind"] == "option":
                label += " \\fI" + roff(argument.get("valueName") or "value") + "\\fR"
        text = argument.get("abstract") or ""
        if argument.get("discussion"):
            text += "\n" + argument["discussion"]
        if argument.get("defaultValue") and argument["kind"] == "option":
            text += " (default: " + argument["defaultValue"] + ")"
        out.append(".TP\n" + label + "\n" + roff(text.strip()))
    return "\n".join(out)


def main():
    executable, section, extra, version = sys.argv[1:5]
    info = json.loads(subprocess.run([executable, "--experimental-dump-help"], check=True,
                                     capture_output=True, text=True).stdout)
    command = info["command"]
    name = command["commandName"]
    out = [
        '.TH %s %s "" "Moat %s" "Moat Manual"' % (name.upper().replace("-", "\\-"), section, version),
        ".SH NAME",
        "%s \\- %s" % (roff(name), roff((command.get("abstract") or "").rstrip("."))),
        ".SH SYNOPSIS",
    ]
    subcommands = [s for s in command.get("subcommands") or [] if s.get("shouldDisplay", True)
                   and s["commandName"] != "help"]
    if subcommands:
        for sub in subcommands:
            out += [synopsis(sub, [name, sub["commandName"]]), ".br"]
        out.pop()
    else:
        out.append(synopsis(command, [name]))
    out.append(".SH DESCRIPTION")
    out.append(roff(command.get("abstract") or ""))
    if command.get("discussion"):
        out.append(paragraphs(command["discussion"]))
    own = arguments(command)
    if own:
        out += [".SH OPTIONS", own]
    if subcommands:
        out.append(".SH COMMANDS")
        for sub in subcommands:
            out.append('.SS "%s"' % roff(name + " " + sub["commandName"]))
            out.append(roff(sub.get("abstract") or ""))
            if sub.get("discussion"):
                out.append(paragraphs(sub["discussion"]))
            listed = arguments(sub)
            if listed:
                out.append(listed)
    with open(extra) as handle:
        text = handle.read().strip()
    if text:
        out.append(text)
    print("\n".join(line for line in out if line != ""))


if __name__ == "__main__":
    main()
