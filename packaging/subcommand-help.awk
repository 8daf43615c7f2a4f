# One subcommand's `lastack SUB --help` as roff, for the SUBCOMMANDS section of lastack(1)
# (packaging/make-man-page). CLI11's layout: the description, "Usage: PATH SUB ...", the
# Positionals: and Options: lists (a tag, two or more spaces, the text; a long tag puts its text
# on the next line, indented), then a footer. The footer every subcommand inherits (Exit codes:)
# is the main page's already, so it ends the subcommand here.
#   lastack run --help | awk -f subcommand-help.awk

# roff: a backslash is \e, a hyphen \- (a minus, so options copy and paste), and a leading . or '
# would be a request.
function roff(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  if (s ~ /^[.']/) s = "\\&" s
  return s
}
# An option or positional: its name in bold, then the type and any constraint as they are.
function item(tag, text,   name, rest) {
  name = tag; sub(/ .*/, "", name)
  rest = substr(tag, length(name) + 1)
  printf ".TP\n\\fB%s\\fR%s\n%s\n", roff(name), roff(rest), roff(text)
}
NR == 1 { description = $0; next }
/^Usage: / {
  sub(/^Usage: [^ ]+/, "lastack")
  printf ".SS \"%s\"\n%s\n", roff($0), roff(description)
  next
}
/^Exit codes:/ { exit }
/^(Positionals|Options):$/ || /^ *-h,--help / { next }
/^$/ { in_example = 0; pending = ""; next }
pending != "" && /^   +[^ ]/ { sub(/^ +/, ""); item(pending, $0); pending = ""; next }
/^  [^ ]/ && footer == 0 {
  sub(/^  /, "")
  if (match($0, /  +/)) item(substr($0, 1, RSTART - 1), substr($0, RSTART + RLENGTH))
  else pending = $0
  next
}
# The footer: paragraphs of text, and indented examples kept line for line.
{ footer = 1 }
/^ / && !in_example { print ".IP\n.nf"; in_example = 1; in_text = 0 }
!/^ / && in_example { print ".fi"; in_example = 0 }
!/^ / && !in_text { print ".PP"; in_text = 1 }
{ print roff($0) }
END { if (in_example) print ".fi" }
