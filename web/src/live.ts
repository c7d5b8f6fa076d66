// Live updates (`GET /live`): one socket per page, reopened when it drops.
// The rule of docs/api.md, "Live updates": after every (re)open the screens
// refetch what they show; a conversation's version more than one above the
// one shown, or a `resync`, means something was missed: refetch it.

import type { Message, TimelineEvent } from "./api";

export type LiveMessage =
  | {
      type: "conversation.changed";
      conversation_id: string;
      version: number;
      events: TimelineEvent[];
      message: Message | null;
    }
  | {
      type: "message.delivery_updated";
      conversation_id: string;
      message_id: string;
      delivery: NonNullable<Message["delivery"]>;
    }
  | { type: "typing"; conversation_id: string; member: { id: string; name: string } }
  | { type: "resync" }
  | { type: "error"; code: string; detail: string };

/** What a screen hears: each message, and (re)opens after which it refetches. */
export interface LiveListener {
  message(m: LiveMessage): void;
  opened(): void;
}

export class LiveFeed {
  private socket: WebSocket | null = null;
  private listeners = new Set<LiveListener>();
  private retry = 500;
  private closed = false;
  private timer: number | undefined;

  constructor(private url: () => string) {}

  start(): void {
    this.closed = false;
    this.open();
  }

  stop(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  subscribe(l: LiveListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Tells the others in the workspace that this person is writing. */
  typing(conversationId: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "typing", conversation_id: conversationId }));
    }
  }

  private open(): void {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 500;
      this.listeners.forEach((l) => l.opened());
    };
    socket.onmessage = (e) => {
      let m: LiveMessage;
      try {
        m = JSON.parse(String(e.data)) as LiveMessage;
      } catch {
        return;
      }
      if (m.type === "resync") {
        this.listeners.forEach((l) => l.opened());
        return;
      }
      this.listeners.forEach((l) => l.message(m));
    };
    socket.onclose = () => {
      if (this.closed || this.socket !== socket) return;
      // Reopen with backoff (an expired token closes with 4001: the next
      // open uses the renewed one).
      this.timer = window.setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
  }
}
