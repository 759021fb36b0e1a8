/**
 * An ordinary Nest gateway: nothing in it knows about Switchyard except the types. Its
 * `server` sends to the room on every node of the cluster; `AnnounceController` reaches the same
 * sockets from an HTTP route.
 */
import { Body, Controller, Inject, Logger, Module, Post } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, WsException, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { Connection, SwitchyardNode } from '@switchyard/transport-ws';

@WebSocketGateway() // no port: served on the application's own port, at /ws
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server!: SwitchyardNode; // node.to(room), toUser(id), toConnection(id), broadcast(): every node
  private readonly logger = new Logger(ChatGateway.name);

  handleConnection(client: Connection): void {
    this.logger.log(`${client.userId ?? 'guest'} connected (${client.id})`);
  }

  handleDisconnect(client: Connection, reason?: string): void {
    this.logger.log(`${client.userId ?? 'guest'} left (${reason})`);
  }

  /** `client.request('chat', { text })`: to everyone in the lobby, on every node; the return value is the ack. */
  @SubscribeMessage('chat')
  async chat(@MessageBody() body: { text?: unknown }, @ConnectedSocket() client: Connection): Promise<{ ok: true }> {
    if (typeof body?.text !== 'string' || body.text.trim() === '') throw new WsException('text is required'); // the ack fails
    await this.server.to('lobby').send('chat', { user: client.userId ?? 'guest', text: body.text });
    return { ok: true };
  }

  /** `client.request('whoami')`: which node serves me. */
  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() client: Connection): { user: string | undefined; node: string } {
    return { user: client.userId, node: this.server.id };
  }
}

@Controller('announce')
export class AnnounceController {
  // @Inject by class: works without emitted decorator metadata (tsx, esbuild)
  constructor(@Inject(ChatGateway) private readonly chat: ChatGateway) {}

  /** `POST /announce { "text": "..." }`: every lobby member on every node gets it. */
  @Post()
  async announce(@Body() body: { text: string }): Promise<{ sent: true }> {
    await this.chat.server.to('lobby').send('chat', { user: 'server', text: body.text });
    return { sent: true };
  }
}

@Module({ providers: [ChatGateway], controllers: [AnnounceController] })
export class ChatModule {}
