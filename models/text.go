package models

import "unicode"

// ForbiddenTextRune finds a character that has no place in human text sent
// to us (names, addresses, titles, reasons, carriers…): C0 and C1 control
// characters (NUL, ESC of terminal escape sequences, DEL…), and the Unicode
// bidirectional overrides and isolates that make text display differently
// from what it says. multiline text may hold line feeds and tabs.
func ForbiddenTextRune(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r == '\r' && multiline:
		case unicode.IsControl(r),
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069',
			r == '\u2028' || r == '\u2029', r == '\ufffe' || r == '\uffff':
			return r, true
		}
	}
	return 0, false
}
