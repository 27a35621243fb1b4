package org.visualccc;

import org.junit.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

/** What the build puts into the jar (the same resources are on the test class path). No native code runs. */
public class BuildResourcesTest {
    private static String resourceText(String name) throws IOException {
        try (InputStream in = BuildResourcesTest.class.getResourceAsStream(name)) {
            assertNotNull("resource " + name + " is missing", in);
            ByteArrayOutputStreamCompat out = new ByteArrayOutputStreamCompat();
            out.copy(in);
            return new String(out.toByteArray(), StandardCharsets.UTF_8);
        }
    }

    /** Small Java 8 replacement for InputStream.readAllBytes. */
    private static final class ByteArrayOutputStreamCompat extends java.io.ByteArrayOutputStream {
        void copy(InputStream in) throws IOException {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                write(buffer, 0, n);
            }
        }
    }

    /** `key: value` from plugin.yml at the repository root (the test JVM runs there). */
    private static String pluginYml(String key) throws IOException {
        for (String line : Files.readAllLines(new File("plugin.yml").toPath(), StandardCharsets.UTF_8)) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        throw new AssertionError("plugin.yml has no " + key);
    }

    @Test
    public void propertiesComeFromPluginYml() throws IOException {
        Properties p = new Properties();
        p.load(new java.io.StringReader(resourceText("/visualccc.properties")));
        assertEquals(pluginYml("version"), p.getProperty("version"));
        assertEquals(pluginYml("name"), p.getProperty("name"));
        assertTrue(p.getProperty("build.id"), p.getProperty("build.id").matches("[0-9a-f]{12}"));
        assertEquals(pluginYml("version"), BuildInfo.version());
        assertTrue(BuildInfo.isPresent());
    }

    @Test
    public void pluginsConfigListsTheCommands() throws Exception {
        List<String> lines = new ArrayList<String>();
        for (String line : resourceText("/plugins.config").split("\n")) {
            if (!line.trim().isEmpty() && !line.startsWith("#")) {
                lines.add(line);
            }
        }
        // plugin.yml lists the commands in menu order; plugins.config keeps it.
        List<String> expected = java.util.Arrays.asList(
                "Plugins>Visual-CCC, \"Analyze Micrograph...\", org.visualccc.fiji.AnalyzeMicrograph",
                "Plugins>Visual-CCC, \"Classify Morphology...\", org.visualccc.fiji.ClassifyMorphology",
                "Plugins>Visual-CCC, \"Morphology Map...\", org.visualccc.fiji.MorphologyMap",
                "Plugins>Visual-CCC, \"Class Activation Map...\", org.visualccc.fiji.ClassActivationMap",
                "Plugins>Visual-CCC, \"Preprocess...\", org.visualccc.fiji.Preprocess",
                "Plugins>Visual-CCC, \"Threshold (Otsu / multi-Otsu)...\", org.visualccc.fiji.ThresholdOtsu",
                "Plugins>Visual-CCC, \"Texture (GLCM)...\", org.visualccc.fiji.TextureGlcm",
                "Plugins>Visual-CCC, \"Cluster (k-means)...\", org.visualccc.fiji.ClusterKMeans",
                "Plugins>Visual-CCC, \"Batch Process Folder...\", org.visualccc.fiji.BatchProcessFolder",
                "Plugins>Visual-CCC, \"Model Manager...\", org.visualccc.fiji.ModelManager",
                "Plugins>Visual-CCC, \"Import BioImage Model...\", org.visualccc.fiji.ImportBioimageModel",
                "Plugins>Visual-CCC, \"Visual-CCC Options...\", org.visualccc.fiji.VisualCccOptions",
                "Plugins>Visual-CCC, \"About Visual-CCC\", org.visualccc.fiji.AboutVisualCcc");
        assertEquals(expected, lines);
        for (String line : lines) {
            String className = line.substring(line.lastIndexOf(',') + 1).trim();
            Class<?> command = Class.forName(className);
            assertTrue(className + " is a PlugIn", ij.plugin.PlugIn.class.isAssignableFrom(command));
            assertNotNull(className + " has a public no-argument constructor", command.getConstructor().newInstance());
        }
    }

    @Test
    public void nativesAreListed() throws IOException {
        String listing = resourceText("/natives/linux-x86_64/files.txt");
        List<ResourceExtractor.Entry> entries = ResourceExtractor.parseListing(
                new java.io.ByteArrayInputStream(listing.getBytes(StandardCharsets.UTF_8)), "files.txt");
        List<String> names = new ArrayList<String>();
        for (ResourceExtractor.Entry e : entries) {
            names.add(e.name);
            assertTrue(e.name + " has a size", e.size > 0);
            assertTrue(e.name + " has a SHA-256", e.sha256 != null && e.sha256.length() == 64);
            assertNotNull(e.name + " is bundled", BuildResourcesTest.class.getResource("/natives/linux-x86_64/" + e.name));
        }
        assertTrue(names.toString(), names.contains("libvisual_ccc.so"));
        assertTrue(names.toString(), names.contains("libonnxruntime.so.1.22.1"));
    }

    @Test
    public void fixtureModelIsBundledAndExtractsToTheSameBytes() throws IOException {
        assertTrue(BundledModels.isBundled(BundledModels.FIXTURE_TINY));
        File extracted = BundledModels.extract(BundledModels.FIXTURE_TINY);
        assertTrue(extracted.getPath(), extracted.getPath().contains(BuildInfo.cacheTag()));
        byte[] expected = Files.readAllBytes(new File(TestSupport.fixturesDir(), "fixture-tiny.onnx").toPath());
        assertArrayEquals(expected, Files.readAllBytes(extracted.toPath()));
        // Second call reuses the same file.
        assertEquals(extracted, BundledModels.extract(BundledModels.FIXTURE_TINY));
    }

    @Test
    public void thisMachineIsTheShippedPlatform() {
        assertEquals(NativeLoader.SUPPORTED_PLATFORM, NativeLoader.platform());
    }
}
