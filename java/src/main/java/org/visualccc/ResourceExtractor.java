package org.visualccc;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Copies class-path resources (native libraries, the bundled fixture model) into a
 * per-build cache directory, so that they can be loaded from real files.
 *
 * <p>The cache root is, in this order: the system property {@code visualccc.cache.dir},
 * the environment variable {@code VISUAL_CCC_CACHE} (also used by
 * {@code scripts/fetch-onnxruntime.sh}), or {@code ~/.cache/visual-ccc}. Below it each
 * build gets {@code <kind>/<version>-<build id>/...}, so different plugin versions never
 * share files.
 *
 * <p>Extraction is atomic: a file is written to a temporary name in the target
 * directory and then renamed into place, so concurrent JVMs never see a half-written
 * file. An existing file of the expected size is reused.
 */
final class ResourceExtractor {
    static final String CACHE_DIR_PROPERTY = "visualccc.cache.dir";
    static final String CACHE_DIR_ENV = "VISUAL_CCC_CACHE";

    private ResourceExtractor() {
    }

    /** One file of a bundled resource folder, as listed in its {@code files.txt}. */
    static final class Entry {
        final String name;
        /** Size in bytes, or -1 if the listing does not say. */
        final long size;
        /** Lower-case hex SHA-256, or null if the listing does not say. */
        final String sha256;

        Entry(String name, long size, String sha256) {
            this.name = name;
            this.size = size;
            this.sha256 = sha256;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The cache root directory (not created). */
    static File cacheRoot() {
        String property = System.getProperty(CACHE_DIR_PROPERTY);
        if (property != null && !property.trim().isEmpty()) {
            return new File(property.trim());
        }
        String env = System.getenv(CACHE_DIR_ENV);
        if (env != null && !env.trim().isEmpty()) {
            return new File(env.trim());
        }
        return new File(new File(System.getProperty("user.home"), ".cache"), "visual-ccc");
    }

    /**
     * Cache roots to try in order: {@link #cacheRoot()}, then a per-user folder in
     * {@code java.io.tmpdir} for machines whose home directory is read-only.
     */
    static List<File> cacheRoots() {
        List<File> roots = new ArrayList<File>();
        roots.add(cacheRoot());
        String user = System.getProperty("user.name", "user").replaceAll("[^0-9A-Za-z._-]", "_");
        roots.add(new File(System.getProperty("java.io.tmpdir"), "visual-ccc-" + user));
        return roots;
    }

    /**
     * Parses a {@code files.txt} listing: one file per line, {@code name[<TAB>size[<TAB>sha256]]};
     * blank lines and lines starting with {@code #} are ignored.
     */
    static List<Entry> parseListing(InputStream in, String where) throws IOException {
        List<Entry> entries = new ArrayList<Entry>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int number = 0;
        while ((line = reader.readLine()) != null) {
            number++;
            String text = line.trim();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            String[] fields = text.split("\\s+");
            String name = fields[0];
            if (name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
                throw new IOException(where + ":" + number + ": bad file name '" + name + "'");
            }
            long size = -1;
            String sha = null;
            try {
                if (fields.length > 1) {
                    size = Long.parseLong(fields[1]);
                }
            } catch (NumberFormatException e) {
                throw new IOException(where + ":" + number + ": bad size '" + fields[1] + "'");
            }
            if (fields.length > 2) {
                sha = fields[2].toLowerCase(Locale.ROOT);
            }
            entries.add(new Entry(name, size, sha));
        }
        return Collections.unmodifiableList(entries);
    }

    /**
     * Makes {@code dir/entry.name} a copy of the class-path resource
     * {@code resourceFolder + entry.name}, reusing an existing file of the listed size.
     *
     * @return the file
     * @throws IOException with a message naming the resource and the target
     */
    static File extract(String resourceFolder, Entry entry, File dir) throws IOException {
        File target = new File(dir, entry.name);
        if (entry.size >= 0 && target.isFile() && target.length() == entry.size) {
            return target;
        }
        String resource = resourceFolder + entry.name;
        if (!dir.isDirectory() && !dir.mkdirs() && !dir.isDirectory()) {
            throw new IOException("cannot create directory " + dir);
        }
        InputStream raw = NativeLoader.class.getResourceAsStream(resource);
        if (raw == null) {
            throw new IOException("resource " + resource + " is not on the class path");
        }
        Path temp = Files.createTempFile(dir.toPath(), "." + entry.name + ".", ".tmp");
        boolean moved = false;
        try {
            MessageDigest digest = sha256();
            long written = 0;
            try (InputStream in = new DigestInputStream(raw, digest);
                 OutputStream out = Files.newOutputStream(temp)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                    written += n;
                }
            }
            if (entry.size >= 0 && written != entry.size) {
                throw new IOException("resource " + resource + " has " + written + " bytes, files.txt says "
                        + entry.size);
            }
            if (entry.sha256 != null) {
                String actual = hex(digest.digest());
                if (!actual.equals(entry.sha256)) {
                    throw new IOException("resource " + resource + " has SHA-256 " + actual
                            + ", files.txt says " + entry.sha256);
                }
            }
            temp.toFile().setReadable(true, false);
            temp.toFile().setExecutable(true, false);
            try {
                Files.move(temp, target.toPath(), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target.toPath(), StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            return target;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }
}
