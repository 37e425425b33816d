import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a whole topic with Kafka's own Java consumer (read_committed, CRCs
 * checked) and prints one JSON line per record: partition, offset,
 * timestamp, and key, value and headers as hex (null where absent). Tests
 * use it to prove that what kelt's producer wrote is what Kafka's reference
 * client reads. Arguments: bootstrap servers, topic.
 */
public class ReadRecords {
  public static void main(String[] args) {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("isolation.level", "read_committed");
    props.put("check.crcs", "true");
    props.put("enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(args[1], Duration.ofSeconds(30)).stream()
          .map(info -> new TopicPartition(info.topic(), info.partition()))
          .collect(Collectors.toList());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + 60_000;
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("the topic's end was not reached in 60 s");
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) System.out.println(line(record));
      }
    }
  }

  private static String line(ConsumerRecord<byte[], byte[]> record) {
    StringBuilder headers = new StringBuilder();
    for (Header header : record.headers()) {
      if (headers.length() > 0) headers.append(',');
      headers.append("[\"").append(HexFormat.of().formatHex(header.key().getBytes(java.nio.charset.StandardCharsets.UTF_8))).append("\",").append(hex(header.value())).append(']');
    }
    return String.format("{\"partition\":%d,\"offset\":%d,\"timestamp\":%d,\"key\":%s,\"value\":%s,\"headers\":[%s]}",
        record.partition(), record.offset(), record.timestamp(), hex(record.key()), hex(record.value()), headers);
  }

  private static String hex(byte[] bytes) {
    return bytes == null ? "null" : "\"" + HexFormat.of().formatHex(bytes) + "\"";
  }
}
