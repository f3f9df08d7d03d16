package dev.lensgraph.neo4jlocal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;

/**
 * Neo4j Community embedded, reachable over Bolt on 127.0.0.1 only, for development and tests.
 *
 * <p>Usage: {@code java [jvm flags] -cp target/classes:<classpath> dev.lensgraph.neo4jlocal.Main
 * --home DIR [--bolt-port 7687] [--pagecache 512m] [--exit-on-stdin-close]}, with the password for
 * the {@code neo4j} user in the environment variable {@code NEO4J_LOCAL_PASSWORD} (never on the
 * command line, where every local user could read it in {@code ps}).
 *
 * <p>Stdout carries exactly one protocol line, {@code NEO4J READY bolt://127.0.0.1:PORT}, once Bolt
 * accepts the password; Neo4j's own logs go to {@code HOME/logs}. Failures go to stderr as
 * {@code NEO4J FAILED ...} with a non-zero exit.
 */
public final class Main {
    private static final String USAGE =
            "usage: Main --home DIR [--bolt-port N] [--pagecache SIZE] [--exit-on-stdin-close]"
                    + " (password in env NEO4J_LOCAL_PASSWORD)";

    private Main() {}

    public static void main(String[] args) {
        try {
            run(Options.parse(args));
        } catch (UsageException e) {
            System.err.println("NEO4J FAILED " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        } catch (Throwable e) {
            System.err.println("NEO4J FAILED " + describe(e));
            e.printStackTrace(System.err);
            System.exit(1);
        }
    }

    private static void run(Options options) throws InterruptedException {
        SocketAddress bolt = new SocketAddress("127.0.0.1", options.boltPort);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(options.home)
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                // Tests use short throwaway passwords; the port is loopback-only.
                .setConfig(GraphDatabaseSettings.auth_minimum_password_length, 1)
                .setConfig(GraphDatabaseSettings.pagecache_memory, options.pageCacheBytes)
                // A dev database never needs point-in-time recovery; keep the disk small.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(64))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Planning one of the merge writer's statements (a rule per property) costs about 1.5 s of
                // CPU on a fresh JVM. By default Neo4j plans a statement again for every order of magnitude
                // of a list parameter's size (1, 2-10, 11-100, ...), so each UNWIND statement was planned
                // five times; and a statement may be replanned every 10 s while the graph's statistics grow
                // fast. Our hot statements are key lookups whose plans depend on neither (docs/benchmarks.md).
                .setConfig(GraphDatabaseInternalSettings.cypher_size_hint_parameters, false)
                .setConfig(GraphDatabaseSettings.cypher_min_replan_interval, Duration.ofMinutes(5))
                // Bolt's two Netty event loops otherwise idle 5 s each before exiting, which makes every
                // stop take 10 s; the databases are already closed by then, so there is nothing to wait for.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dbms.shutdown();
            } finally {
                stopped.countDown();
            }
        }, "neo4j-local-shutdown"));

        setPassword(dbms, options.password);

        if (options.exitOnStdinClose) {
            watchStdin();
        }
        System.out.println("NEO4J READY bolt://127.0.0.1:" + options.boltPort);
        System.out.flush();
        stopped.await();
    }

    /**
     * Sets the password on every start so that the configured one always wins, whether the store is
     * new (default password, change required) or was created with another password.
     */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try (Transaction tx = system.beginTx()) {
            tx.execute("ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password))
                    .close();
            tx.commit();
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to its current value; that is the restart case.
            if (!describe(e).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    /** The parent holds our stdin pipe; when it dies without stopping us, EOF arrives and we exit. */
    private static void watchStdin() {
        Thread watcher = new Thread(() -> {
            try (InputStream in = System.in) {
                byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // Nothing is sent on stdin; the read only waits for the pipe to close.
                }
            } catch (IOException ignored) {
                // A broken pipe means the same as EOF here.
            }
            System.exit(0);
        }, "neo4j-local-stdin-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (text.length() > 0) {
                text.append(" <- ");
            }
            text.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return text.toString().replace('\n', ' ');
    }

    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private record Options(Path home, int boltPort, long pageCacheBytes, String password, boolean exitOnStdinClose) {
        static Options parse(String[] args) throws UsageException {
            String home = System.getenv("NEO4J_LOCAL_HOME");
            int boltPort = 7687;
            long pageCache = ByteUnit.mebiBytes(256);
            boolean exitOnStdinClose = false;
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--home" -> home = value(args, ++i, arg);
                    case "--bolt-port" -> boltPort = port(value(args, ++i, arg));
                    case "--pagecache" -> pageCache = bytes(value(args, ++i, arg));
                    case "--exit-on-stdin-close" -> exitOnStdinClose = true;
                    default -> throw new UsageException("unknown argument " + arg);
                }
            }
            if (home == null || home.isBlank()) {
                throw new UsageException("--home (or env NEO4J_LOCAL_HOME) is required");
            }
            String password = System.getenv("NEO4J_LOCAL_PASSWORD");
            if (password == null || password.isEmpty()) {
                throw new UsageException("env NEO4J_LOCAL_PASSWORD is required");
            }
            return new Options(Path.of(home).toAbsolutePath(), boltPort, pageCache, password, exitOnStdinClose);
        }

        private static String value(String[] args, int i, String flag) throws UsageException {
            if (i >= args.length) {
                throw new UsageException(flag + " needs a value");
            }
            return args[i];
        }

        private static int port(String text) throws UsageException {
            try {
                int port = Integer.parseInt(text);
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
                return port;
            } catch (NumberFormatException e) {
                throw new UsageException("--bolt-port must be 1..65535, got " + text);
            }
        }

        private static long bytes(String text) throws UsageException {
            try {
                return ByteUnit.parse(text);
            } catch (RuntimeException e) {
                throw new UsageException("--pagecache must be a size like 512m or 1g, got " + text);
            }
        }
    }
}
