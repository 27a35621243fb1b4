package org.visualccc;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads the Visual-CCC native library ({@code libvisual_ccc.so}) once per class loader.
 *
 * <p>Tried in this order:
 * <ol>
 *   <li>the system property {@value #NATIVE_PATH_PROPERTY}, the full path of the library
 *       file. An explicit setting that fails is an error: nothing else is tried, so that
 *       a typo never silently loads a different library;</li>
 *   <li>{@code System.loadLibrary("visual_ccc")}, i.e. {@code java.library.path}
 *       (Fiji puts {@code Fiji.app/lib/linux64/} there);</li>
 *   <li>the copy bundled in the plugin jar: every file listed in the resource
 *       {@code /natives/<platform>/files.txt} (the library and ONNX Runtime) is extracted
 *       into {@code ~/.cache/visual-ccc/natives/<version>-<build id>/<platform>/} (see
 *       {@link ResourceExtractor} for the cache location and atomicity) and loaded from
 *       there.</li>
 * </ol>
 * If everything fails, an {@link UnsatisfiedLinkError} lists each attempt and why it
 * failed. Only Linux x86_64 natives are shipped at present.
 *
 * <p>{@link #loadedLibraryFile()} remembers which file was loaded, because ONNX Runtime
 * is looked for next to it.
 */
public final class NativeLoader {
    /** System property: full path of libvisual_ccc.so to load instead of searching. */
    public static final String NATIVE_PATH_PROPERTY = "visualccc.native.path";
    /** Base name given to {@link System#loadLibrary(String)}. */
    public static final String LIBRARY_NAME = "visual_ccc";
    /** The only platform natives are currently built and shipped for. */
    public static final String SUPPORTED_PLATFORM = "linux-x86_64";

    private static final Object LOCK = new Object();
    private static volatile boolean loaded;
    private static volatile File loadedFile;
    private static volatile String loadedFrom;

    private NativeLoader() {
    }

    /**
     * Loads the native library unless already loaded. Idempotent and thread-safe.
     *
     * @throws UnsatisfiedLinkError listing every attempt and why it failed
     */
    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (!loaded) {
                doLoad();
            }
        }
    }

    /** Whether {@link #load()} has succeeded in this class loader. */
    public static boolean isLoaded() {
        return loaded;
    }

    /**
     * The library file that was loaded; for {@code System.loadLibrary} the first matching
     * file in {@code java.library.path}. {@code null} before loading or if unknown.
     */
    public static File loadedLibraryFile() {
        return loadedFile;
    }

    /** How the library was loaded, for logs; {@code null} before loading. */
    public static String loadedFrom() {
        return loadedFrom;
    }

    /**
     * This JVM's platform in the form used for resource folders ({@code linux-x86_64},
     * {@code linux-aarch64}, {@code windows-x86_64}, {@code macos-aarch64}, ...).
     */
    public static String platform() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        String osName;
        if (os.startsWith("linux")) {
            osName = "linux";
        } else if (os.startsWith("windows")) {
            osName = "windows";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            osName = "macos";
        } else {
            osName = os.replaceAll("[^a-z0-9]", "");
        }
        String archName;
        if (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x64")) {
            archName = "x86_64";
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            archName = "aarch64";
        } else {
            archName = arch.replaceAll("[^a-z0-9_]", "");
        }
        return osName + "-" + archName;
    }

    private static void doLoad() {
        List<String> attempts = new ArrayList<String>();

        // 1. Explicit path: the user asked for that file, so failure is final.
        String explicit = System.getProperty(NATIVE_PATH_PROPERTY);
        if (explicit != null && !explicit.trim().isEmpty()) {
            File file = new File(explicit.trim()).getAbsoluteFile();
            String failure = tryLoad(file);
            if (failure == null) {
                succeed(file, "-D" + NATIVE_PATH_PROPERTY + "=" + explicit);
                return;
            }
            attempts.add("-D" + NATIVE_PATH_PROPERTY + "=" + explicit + ": " + failure
                    + " (an explicit setting is not skipped; fix or remove it)");
            throw failure(attempts);
        }
        attempts.add("-D" + NATIVE_PATH_PROPERTY + ": not set");

        // 2. java.library.path (Fiji: Fiji.app/lib/linux64/).
        try {
            System.loadLibrary(LIBRARY_NAME);
            succeed(findOnLibraryPath(), "java.library.path");
            return;
        } catch (UnsatisfiedLinkError e) {
            attempts.add("System.loadLibrary(\"" + LIBRARY_NAME + "\") with java.library.path="
                    + System.getProperty("java.library.path") + ": " + e.getMessage());
        } catch (SecurityException e) {
            attempts.add("System.loadLibrary(\"" + LIBRARY_NAME + "\"): " + e);
        }

        // 3. Bundled in the jar, extracted to the cache.
        String platform = platform();
        if (!SUPPORTED_PLATFORM.equals(platform)) {
            attempts.add("bundled natives: none for this platform (" + platform + ", os.name="
                    + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
                    + "); only " + SUPPORTED_PLATFORM + " natives are shipped. Build "
                    + System.mapLibraryName(LIBRARY_NAME) + " for this platform from the Rust sources "
                    + "and point -D" + NATIVE_PATH_PROPERTY + " at it");
            throw failure(attempts);
        }
        String folder = "/natives/" + platform + "/";
        List<ResourceExtractor.Entry> entries;
        try (InputStream in = NativeLoader.class.getResourceAsStream(folder + "files.txt")) {
            if (in == null) {
                attempts.add("bundled natives: resource " + folder + "files.txt is not on the class path "
                        + "(was the jar built without natives?)");
                throw failure(attempts);
            }
            entries = ResourceExtractor.parseListing(in, folder + "files.txt");
        } catch (IOException e) {
            attempts.add("bundled natives: cannot read " + folder + "files.txt: " + e.getMessage());
            throw failure(attempts);
        }
        String libraryName = System.mapLibraryName(LIBRARY_NAME);
        boolean listed = false;
        for (ResourceExtractor.Entry entry : entries) {
            listed |= entry.name.equals(libraryName);
        }
        if (!listed) {
            List<ResourceExtractor.Entry> withLibrary = new ArrayList<ResourceExtractor.Entry>(entries);
            withLibrary.add(0, new ResourceExtractor.Entry(libraryName, -1, null));
            entries = withLibrary;
        }
        for (File root : ResourceExtractor.cacheRoots()) {
            File dir = new File(new File(new File(root, "natives"), BuildInfo.cacheTag()), platform);
            File library = new File(dir, libraryName);
            try {
                for (ResourceExtractor.Entry entry : entries) {
                    ResourceExtractor.extract(folder, entry, dir);
                }
            } catch (IOException e) {
                attempts.add("bundled natives: cannot extract into " + dir + ": " + e.getMessage());
                continue;
            }
            String failure = tryLoad(library);
            if (failure == null) {
                succeed(library, "bundled copy extracted to " + dir);
                return;
            }
            attempts.add("bundled natives extracted to " + dir + ": " + failure);
            break; // the files are there; another cache folder would fail the same way
        }
        throw failure(attempts);
    }

    /** Loads {@code file}; returns null on success, else why it failed. */
    private static String tryLoad(File file) {
        if (!file.isFile()) {
            return file + " does not exist or is not a file";
        }
        try {
            System.load(file.getPath());
            return null;
        } catch (UnsatisfiedLinkError e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("already loaded in another classloader")) {
                message += " (ImageJ reloaded its plugin classes, e.g. after Help > Refresh Menus; "
                        + "restart ImageJ/Fiji)";
            }
            return message;
        } catch (SecurityException e) {
            return e.toString();
        }
    }

    private static void succeed(File file, String how) {
        loadedFile = file;
        loadedFrom = how;
        loaded = true;
        NativeLog.apply();
    }

    private static File findOnLibraryPath() {
        String path = System.getProperty("java.library.path", "");
        String name = System.mapLibraryName(LIBRARY_NAME);
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            File candidate = new File(dir, name);
            if (candidate.isFile()) {
                return candidate.getAbsoluteFile();
            }
        }
        return null;
    }

    private static UnsatisfiedLinkError failure(List<String> attempts) {
        StringBuilder sb = new StringBuilder();
        sb.append("Visual-CCC ").append(BuildInfo.version())
                .append(": cannot load the native library ")
                .append(System.mapLibraryName(LIBRARY_NAME)).append(". Tried:");
        int i = 1;
        for (String attempt : attempts) {
            sb.append("\n  ").append(i++).append(". ").append(attempt);
        }
        return new UnsatisfiedLinkError(sb.toString());
    }
}
