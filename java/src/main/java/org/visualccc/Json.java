package org.visualccc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The little JSON the bridge needs, with no library (the plugin depends on ImageJ alone):
 * writing a flat object of settings for the core, and reading its defaults and reports
 * (nested objects and arrays, as {@code Map}, {@code List}, {@code Double},
 * {@code String}, {@code Boolean} and null).
 */
public final class Json {
    private Json() {
    }

    /** {@code {"key": value, ...}} for string, number and boolean values. */
    public static String object(Map<String, Object> fields) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Object> field : fields.entrySet()) {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append(quote(field.getKey())).append(':').append(value(field.getValue()));
        }
        return out.append('}').toString();
    }

    private static String value(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            return value.toString();
        }
        if (value instanceof Number) {
            double d = ((Number) value).doubleValue();
            // Non-finite numbers have no JSON form: send them as strings so that the
            // core's error names the field instead of a parse error.
            return Double.isNaN(d) || Double.isInfinite(d) ? quote(value.toString()) : Double.toString(d);
        }
        return quote(value.toString());
    }

    /** {@code "text"} with JSON escapes. */
    public static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /**
     * Reads any JSON value the core writes (objects, arrays, strings, numbers as
     * {@link Double}, booleans, null).
     *
     * @throws IllegalArgumentException if {@code text} is not one JSON value
     */
    public static Object parse(String text) {
        Reader reader = new Reader(text);
        Object value = reader.value();
        reader.skipSpace();
        if (reader.pos != text.length()) {
            throw new IllegalArgumentException("JSON: trailing text at " + reader.pos + " in " + text);
        }
        return value;
    }

    private static final class Reader {
        private final String text;
        private int pos;

        Reader(String text) {
            this.text = text;
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        boolean peekIs(char c) {
            skipSpace();
            return pos < text.length() && text.charAt(pos) == c;
        }

        boolean accept(char c) {
            if (peekIs(c)) {
                pos++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!accept(c)) {
                throw new IllegalArgumentException("JSON: expected '" + c + "' at " + pos + " in " + text);
            }
        }

        String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (pos < text.length() && text.charAt(pos) != '"') {
                char c = text.charAt(pos++);
                if (c == '\\' && pos < text.length()) {
                    char e = text.charAt(pos++);
                    if (e == 'u' && pos + 4 <= text.length()) {
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    } else {
                        out.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                    }
                } else {
                    out.append(c);
                }
            }
            expect('"');
            return out.toString();
        }

        Object value() {
            if (accept('{')) {
                Map<String, Object> map = new LinkedHashMap<String, Object>();
                if (!accept('}')) {
                    do {
                        skipSpace();
                        String key = string();
                        expect(':');
                        map.put(key, value());
                    } while (accept(','));
                    expect('}');
                }
                return map;
            }
            if (accept('[')) {
                List<Object> list = new ArrayList<Object>();
                if (!accept(']')) {
                    do {
                        list.add(value());
                    } while (accept(','));
                    expect(']');
                }
                return list;
            }
            skipSpace();
            if (text.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            return scalar();
        }

        Object scalar() {
            if (peekIs('"')) {
                return string();
            }
            int start = pos;
            while (pos < text.length() && ",}] \n\r\t".indexOf(text.charAt(pos)) < 0) {
                pos++;
            }
            String word = text.substring(start, pos);
            if (word.equals("true") || word.equals("false")) {
                return Boolean.valueOf(word);
            }
            try {
                return Double.valueOf(word);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("JSON: cannot read '" + word + "' in " + text);
            }
        }
    }
}
