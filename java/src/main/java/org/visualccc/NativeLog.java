package org.visualccc;

import ij.IJ;
import ij.Prefs;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The native core's log records in ImageJ's Log window. The core queues its records (model
 * and ONNX Runtime loading, tiles, k-means fits, ...); {@link #toImageJLog()} prints them,
 * and every Visual-CCC command calls it when it finishes. The level comes from the
 * {@code visualccc.log} system property, else from Visual-CCC Options... (stored in
 * ImageJ's preferences), else {@value #DEFAULT_LEVEL}.
 */
public final class NativeLog {
    /** System property naming the level; it overrides the stored preference. */
    public static final String LEVEL_PROPERTY = "visualccc.log";
    /** Levels from quietest to most detailed; the index is the native level. */
    public static final List<String> LEVELS =
            Arrays.asList("off", "error", "warn", "info", "debug", "trace");
    /** Warnings and errors only. */
    public static final String DEFAULT_LEVEL = "warn";
    private static final String PREFS_KEY = "visualccc.log.level";

    private NativeLog() {
    }

    /** The level in force: the system property, else the preference, else the default. */
    public static String level() {
        String property = System.getProperty(LEVEL_PROPERTY);
        if (property != null && !property.trim().isEmpty()) {
            return checked(property);
        }
        return checked(Prefs.get(PREFS_KEY, DEFAULT_LEVEL));
    }

    /**
     * Stores {@code level} as the preference and applies it at once (when the native
     * library is loaded; else when it is).
     *
     * @throws IllegalArgumentException for a name not in {@link #LEVELS}
     */
    public static void setLevel(String level) {
        String checked = checked(level);
        Prefs.set(PREFS_KEY, checked);
        if (NativeLoader.isLoaded()) {
            nativeSetLevel(LEVELS.indexOf(level()));
        }
    }

    /** Applies {@link #level()}; called by {@link NativeLoader} once the library is loaded. */
    static void apply() {
        nativeSetLevel(LEVELS.indexOf(level()));
    }

    /** Takes the records queued since the last call (none if the library is not loaded). */
    public static String[] drain() {
        return NativeLoader.isLoaded() ? nativeDrain() : new String[0];
    }

    /** Prints the queued records to ImageJ's Log window, each prefixed "Visual-CCC ". */
    public static void toImageJLog() {
        for (String line : drain()) {
            IJ.log("Visual-CCC " + line);
        }
    }

    private static String checked(String level) {
        String name = level.trim().toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(name)) {
            throw new IllegalArgumentException("log level must be one of " + LEVELS + ", not '" + level + "'");
        }
        return name;
    }

    private static native void nativeSetLevel(int level);

    private static native String[] nativeDrain();
}
