package org.visualccc;

/**
 * Test support only; not part of the plugin's API and never called by the plugin.
 *
 * <p>Lets tests check that a Rust panic inside the native library reaches Java as a
 * {@link VisualCccException} of kind {@link VisualCccException.Kind#INTERNAL} instead of
 * aborting the JVM.
 */
public final class NativeTesting {
    private NativeTesting() {
    }

    /**
     * Makes the native side panic with {@code message}.
     *
     * @throws VisualCccException always, of kind INTERNAL, whose message contains {@code message}
     */
    public static void panic(String message) {
        NativeLoader.load();
        nativePanic(message);
    }

    private static native void nativePanic(String message);
}
