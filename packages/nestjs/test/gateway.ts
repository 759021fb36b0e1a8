/** The gateway the tests run on two Nest applications: one of each kind of handler. */
import { Module, UseGuards, type CanActivate } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, WsException, type OnGatewayConnection, type OnGatewayDisconnect, type WsResponse } from '@nestjs/websockets';
import type { Connection, SwitchyardNode } from '@switchyard/transport-ws';
import { from, map, type Observable } from 'rxjs';

/** Lets nothing through. */
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@WebSocketGateway()
export class TestGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server!: SwitchyardNode;
  readonly connected: Connection[] = [];
  readonly disconnected: Array<{ id: string; reason: string | undefined }> = [];

  handleConnection(client: Connection): void {
    this.connected.push(client);
  }

  handleDisconnect(client: Connection, reason?: string): void {
    this.disconnected.push({ id: client.id, reason });
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown, @ConnectedSocket() client: Connection): { echoed: unknown; conn: string; node: string } {
    return { echoed: data, conn: client.id, node: this.server.id };
  }

  @SubscribeMessage('to-room')
  async toRoom(@MessageBody() body: { room: string; text: string }): Promise<string> {
    await this.server.to(body.room).send('news', { text: body.text, from: this.server.id });
    return 'sent';
  }

  @SubscribeMessage('to-user')
  async toUser(@MessageBody() body: { user: string; text: string }): Promise<string> {
    await this.server.toUser(body.user).send('dm', { text: body.text });
    return 'sent';
  }

  @SubscribeMessage('refuse')
  refuse(@MessageBody() body: { why: string }): never {
    throw new WsException(body.why);
  }

  @SubscribeMessage('guarded')
  @UseGuards(DenyAll)
  guarded(): string {
    return 'never';
  }

  @SubscribeMessage('boom')
  boom(): never {
    throw new Error('a bug');
  }

  @SubscribeMessage('count')
  count(@MessageBody() n: number): Observable<WsResponse<number>> {
    return from(Array.from({ length: n }, (_, i) => i + 1)).pipe(map((i) => ({ event: 'tick', data: i })));
  }

  @SubscribeMessage('later')
  later(@MessageBody() value: string, @Ack() ack: (result: unknown) => void): void {
    void Promise.resolve().then(() => ack({ later: value }));
  }
}

@Module({ providers: [TestGateway] })
export class TestModule {}

@WebSocketGateway(4321)
export class OwnPortGateway {
  @SubscribeMessage('x')
  x(): string {
    return 'x';
  }
}

@Module({ providers: [OwnPortGateway] })
export class OwnPortModule {}
