package org.visualccc;

import java.util.Locale;

/**
 * A failure reported by the Visual-CCC native library other than a bad argument (bad
 * arguments are {@link IllegalArgumentException}s).
 *
 * <p>Thrown from native code through the constructor
 * {@code (Ljava/lang/String;Ljava/lang/String;)V}; keep that constructor.
 */
public class VisualCccException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, broadly. */
    public enum Kind {
        /** An image file could not be read or decoded. */
        DECODE,
        /** A model file is missing, malformed or does not meet the model contract. */
        MODEL,
        /** ONNX Runtime could not be loaded or failed while running. */
        RUNTIME,
        /** Reading or writing a file failed. */
        IO,
        /** A bug: a panic in native code or a broken invariant. */
        INTERNAL;

        /** The kind named {@code name} (case-insensitive); unknown names give {@link #INTERNAL}. */
        public static Kind parse(String name) {
            if (name != null) {
                try {
                    return valueOf(name.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    // fall through
                }
            }
            return INTERNAL;
        }
    }

    private final Kind kind;

    /**
     * Called from native code.
     *
     * @param kind    one of {@code DECODE}, {@code MODEL}, {@code RUNTIME}, {@code IO},
     *                {@code INTERNAL}; anything else is treated as {@code INTERNAL}
     * @param message what happened, for the user
     */
    public VisualCccException(String kind, String message) {
        super(message);
        this.kind = Kind.parse(kind);
    }

    public VisualCccException(Kind kind, String message) {
        this(kind, message, null);
    }

    public VisualCccException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind == null ? Kind.INTERNAL : kind;
    }

    public Kind kind() {
        return kind;
    }
}
