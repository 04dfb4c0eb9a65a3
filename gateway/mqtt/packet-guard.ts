/**
 * Caps the size of MQTT packets a client may send to the embedded broker. aedes (through mqtt-packet) has
 * no packet size limit: it buffers a packet of any announced length (up to 256 MB, MQTT 3.1.1 §2.2.3)
 * before any hook sees it, so one client could hold the gateway's memory. This stream reads only the fixed
 * headers (type byte + remaining length, a base-128 varint of 1..4 bytes) and fails the connection as soon
 * as a header announces more than `maxPacketBytes`; everything else passes through unchanged.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { IosnetError } from '../../core/errors.js';

export class MqttPacketTooLarge extends IosnetError<'MQTT_PACKET_TOO_LARGE'> {}

export class MqttPacketGuard extends Transform {
  /** 0: expecting a type byte; 1: reading the length varint; 2: skipping the packet's remaining bytes. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 0) {
        i++;
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 1) {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.length > this.maxPacketBytes || (b & 0x80 && this.lengthBytes === 4)) {
          done(
            new MqttPacketTooLarge('MQTT_PACKET_TOO_LARGE', `packet over ${this.maxPacketBytes} bytes`, {
              max: this.maxPacketBytes,
            }),
          );
          return;
        }
        if (!(b & 0x80)) {
          this.remaining = this.length;
          this.state = this.remaining > 0 ? 2 : 0;
        }
      } else {
        const n = Math.min(this.remaining, chunk.length - i);
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 0;
      }
    }
    done(null, chunk);
  }
}
