package org.visualccc;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Name, version and build id of this plugin, read from the resource
 * {@code /visualccc.properties} that the build generates from {@code plugin.yml}.
 *
 * <p>When the resource is missing (classes run straight from an IDE without the build's
 * resources) the version is {@code "dev"} and the build id {@code "unknown"}.
 */
public final class BuildInfo {
    /** Class-path resource written by build.gradle. */
    public static final String RESOURCE = "/visualccc.properties";

    private static final Properties PROPERTIES = read();

    private BuildInfo() {
    }

    private static Properties read() {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // Keep the defaults below; the version only names cache directories and logs.
        }
        return properties;
    }

    /** Whether {@code /visualccc.properties} was found on the class path. */
    public static boolean isPresent() {
        return PROPERTIES.containsKey("version");
    }

    /** Plugin name from plugin.yml, e.g. {@code Visual-CCC}. */
    public static String name() {
        return PROPERTIES.getProperty("name", "Visual-CCC");
    }

    /** Plugin version from plugin.yml, e.g. {@code 0.1.0}; {@code dev} if unknown. */
    public static String version() {
        return PROPERTIES.getProperty("version", "dev");
    }

    /**
     * Short content hash of the bundled natives and fixture model; distinguishes builds
     * that share a version. {@code unknown} if not recorded.
     */
    public static String buildId() {
        return PROPERTIES.getProperty("build.id", "unknown");
    }

    /** {@code <version>-<build id>}: the name of this build's cache directories. */
    static String cacheTag() {
        return sanitize(version()) + "-" + sanitize(buildId());
    }

    private static String sanitize(String text) {
        return text.replaceAll("[^0-9A-Za-z._+-]", "_");
    }
}
