package org.visualccc;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Extraction of class-path resources into the cache (no native code). */
public class ResourceExtractorTest {
    private static final String FOLDER = "/extract-test/";
    private static final byte[] HELLO = "hello, extractor\n".getBytes(StandardCharsets.UTF_8);
    private static final String HELLO_SHA = "f0b3065f545f95abea0aee4284cf7a082f63f36fe4261e0eba6256db088d8264";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @Test
    public void listingIsParsed() throws IOException {
        String text = "# comment\n\nlibvisual_ccc.so\t123\tABCDEF\nlibonnxruntime.so.1.22.1  456\nplain\n";
        List<ResourceExtractor.Entry> entries = ResourceExtractor.parseListing(
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "files.txt");
        assertEquals(3, entries.size());
        assertEquals("libvisual_ccc.so", entries.get(0).name);
        assertEquals(123, entries.get(0).size);
        assertEquals("abcdef", entries.get(0).sha256);
        assertEquals(456, entries.get(1).size);
        assertNull(entries.get(1).sha256);
        assertEquals(-1, entries.get(2).size);
    }

    @Test
    public void pathsInTheListingAreRejected() {
        try {
            ResourceExtractor.parseListing(new ByteArrayInputStream("../evil 1\n".getBytes(StandardCharsets.UTF_8)),
                    "files.txt");
            fail();
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("bad file name"));
        }
    }

    @Test
    public void extractsAtomicallyAndReusesSameSize() throws IOException {
        File dir = new File(temp.getRoot(), "a/b");
        File file = ResourceExtractor.extract(FOLDER, new ResourceExtractor.Entry("hello.txt", HELLO.length, null), dir);
        assertEquals(new File(dir, "hello.txt"), file);
        assertArrayEquals(HELLO, Files.readAllBytes(file.toPath()));
        assertEquals("no temporary files are left behind", 1, dir.list().length);

        // Same size: reused as is (not rewritten).
        long modified = file.lastModified() - 10000;
        assertTrue(file.setLastModified(modified));
        ResourceExtractor.extract(FOLDER, new ResourceExtractor.Entry("hello.txt", HELLO.length, null), dir);
        assertEquals(modified, file.lastModified());

        // Wrong size on disk: replaced.
        Files.write(file.toPath(), "short".getBytes(StandardCharsets.UTF_8));
        ResourceExtractor.extract(FOLDER, new ResourceExtractor.Entry("hello.txt", HELLO.length, null), dir);
        assertArrayEquals(HELLO, Files.readAllBytes(file.toPath()));
        assertEquals(1, dir.list().length);
    }

    @Test
    public void matchingChecksumIsAccepted() throws IOException {
        File file = ResourceExtractor.extract(FOLDER, new ResourceExtractor.Entry("hello.txt", HELLO.length, HELLO_SHA),
                temp.newFolder());
        assertArrayEquals(HELLO, Files.readAllBytes(file.toPath()));
    }

    @Test
    public void checksumMismatchIsAnErrorAndLeavesNothing() throws IOException {
        File dir = temp.newFolder();
        assertExtractionFails(new ResourceExtractor.Entry("hello.txt", HELLO.length, "00" + HELLO_SHA.substring(2)),
                dir, "SHA-256");
        assertEquals(0, dir.list().length);
    }

    @Test
    public void sizeMismatchIsAnError() throws IOException {
        File dir = temp.newFolder();
        assertExtractionFails(new ResourceExtractor.Entry("hello.txt", HELLO.length + 1, null), dir, "files.txt says");
        assertEquals(0, dir.list().length);
    }

    @Test
    public void missingResourceIsNamed() throws IOException {
        assertExtractionFails(new ResourceExtractor.Entry("absent.bin", -1, null), temp.newFolder(),
                "/extract-test/absent.bin");
    }

    /** Extracting {@code entry} into {@code dir} fails with a message containing {@code expected}. */
    private static void assertExtractionFails(ResourceExtractor.Entry entry, File dir, String expected) {
        IOException e = assertThrows(IOException.class, () -> ResourceExtractor.extract(FOLDER, entry, dir));
        assertTrue(e.getMessage(), e.getMessage().contains(expected));
    }

    @Test
    public void cacheRootFollowsTheProperty() {
        String old = System.getProperty(ResourceExtractor.CACHE_DIR_PROPERTY);
        try {
            System.setProperty(ResourceExtractor.CACHE_DIR_PROPERTY, "/some/where");
            assertEquals(new File("/some/where"), ResourceExtractor.cacheRoot());
            assertEquals(new File("/some/where"), ResourceExtractor.cacheRoots().get(0));
        } finally {
            if (old == null) {
                System.clearProperty(ResourceExtractor.CACHE_DIR_PROPERTY);
            } else {
                System.setProperty(ResourceExtractor.CACHE_DIR_PROPERTY, old);
            }
        }
    }
}
