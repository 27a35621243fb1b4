package org.visualccc;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** Where the native parts come from, for About boxes and bug reports. */
public final class RuntimeInfo {
    /** File names tried for ONNX Runtime in each directory, in the core's order. */
    private static final String[] ONNXRUNTIME_NAMES = {"libonnxruntime.so.1.22.1", "libonnxruntime.so",
        "libonnxruntime.so.1"};

    private RuntimeInfo() {
    }

    /**
     * The ONNX Runtime version this build requires: the version in the name of the
     * bundled {@code libonnxruntime.so.X.Y.Z}, or null if none is bundled.
     */
    public static String requiredOnnxRuntimeVersion() {
        String resource = "/natives/" + NativeLoader.SUPPORTED_PLATFORM + "/files.txt";
        try (InputStream in = RuntimeInfo.class.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String name = line.split("\t")[0];
                if (name.startsWith("libonnxruntime.so.")) {
                    return name.substring("libonnxruntime.so.".length());
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /**
     * The ONNX Runtime library that opening a model uses, found the way the native library
     * looks for it: {@value Model#ONNXRUNTIME_PROPERTY}, {@code $ORT_DYLIB_PATH}, then the
     * directory of the loaded native library and {@code <imagej>/lib/linux64}. Null if none
     * is found. Loads the native library first.
     */
    public static File onnxRuntimeLibrary() {
        NativeLoader.load();
        for (String explicit : new String[] {System.getProperty(Model.ONNXRUNTIME_PROPERTY),
            System.getenv("ORT_DYLIB_PATH")}) {
            if (explicit != null && !explicit.trim().isEmpty()) {
                return new File(explicit.trim());
            }
        }
        for (String dir : Model.onnxRuntimeSearchDirs()) {
            for (String name : ONNXRUNTIME_NAMES) {
                File f = new File(dir, name);
                if (f.isFile()) {
                    return f;
                }
            }
        }
        return null;
    }
}
