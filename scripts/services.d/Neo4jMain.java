// Runs Neo4j Community embedded with a Bolt connector, for development and tests only.
// Usage: java -cp "$(cat cp.txt)" Neo4jMain.java HOME_DIR CONF_FILE [PID_FILE]
// (scripts/services compiles it once and runs the class, so that a restart does not recompile.)
// All settings (Bolt address, TLS, auth, memory, directories) come from CONF_FILE, which
// scripts/services writes.
// Prints one line "guji-neo4j: ready version=X edition=Y" when the default database is available,
// and shuts the databases down cleanly on SIGTERM/SIGINT.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

public class Neo4jMain {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        if (args.length > 2) {
            Path pidFile = Path.of(args[2]).toAbsolutePath();
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
            pidFile.toFile().deleteOnExit();
        }
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .loadPropertiesFromFile(Path.of(args[1]).toAbsolutePath())
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("guji-neo4j: shutting down");
            dbms.shutdown();
            stopped.countDown();
        }));
        try {
            GraphDatabaseService db = dbms.database("neo4j");
            if (!db.isAvailable(120_000)) throw new IllegalStateException("database neo4j did not become available");
            Map<String, Object> row = db.executeTransactionally(
                    "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition",
                    Map.of(), result -> result.next());
            System.out.println("guji-neo4j: ready version=" + row.get("version") + " edition=" + row.get("edition"));
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1); // runs the shutdown hook; Neo4j's own threads would otherwise keep the JVM alive
        }
        stopped.await();
    }
}
