package org.visualccc;

/** Information about the loaded Visual-CCC native library. */
public final class NativeLibrary {
    private NativeLibrary() {
    }

    /**
     * Version of the Rust crate the native library was built from, loading the library
     * first if needed.
     *
     * @throws UnsatisfiedLinkError if the library cannot be loaded
     */
    public static String version() {
        NativeLoader.load();
        return nativeVersion();
    }

    private static native String nativeVersion();
}
