// The Azure Communication Services chat quick-start (the steps of the ACS Chat SDK README, in
// JavaScript), as written for Azure. Nothing here knows about Parley: point the two variables below at a
// Parley server and it runs unchanged. See docs/acs.md, "The quick-start against Parley".
//
//   AZURE_COMMUNICATION_SERVICE_ENDPOINT           https://chat.example.com:8443
//   AZURE_COMMUNICATION_SERVICE_CONNECTION_STRING  endpoint=https://chat.example.com:8443/;accesskey=...
//
// A self-signed certificate is trusted the Node way: NODE_EXTRA_CA_CERTS=/path/to/cert.pem.
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { randomUUID } from 'node:crypto';

const endpoint = process.env['AZURE_COMMUNICATION_SERVICE_ENDPOINT'];
const connectionString = process.env['AZURE_COMMUNICATION_SERVICE_CONNECTION_STRING'];

// User access tokens: create a user and a token with the "chat" scope.
const identityClient = new CommunicationIdentityClient(connectionString);
const user = await identityClient.createUser();
const tokenResponse = await identityClient.getToken(user, ['chat']);
const token = tokenResponse.token;
console.log(`Created user ${user.communicationUserId}, token expires ${tokenResponse.expiresOn.toISOString()}`);

// Create the chat client.
const chatClient = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token));

// Create a thread with participants and a repeatability request id.
const newUsers = [await identityClient.createUser(), await identityClient.createUser()];
const repeatabilityRequestId = randomUUID();
const createChatThreadResult = await chatClient.createChatThread(
  { topic: 'test topic' },
  {
    participants: [
      { id: user, displayName: 'name', shareHistoryTime: new Date() },
      { id: newUsers[0], displayName: 'Fred Flinstone', shareHistoryTime: new Date() },
    ],
    idempotencyToken: repeatabilityRequestId,
  },
);
const threadId = createChatThreadResult.chatThread.id;
console.log(`Thread created: ${threadId}`);
const retry = createChatThreadResult.invalidParticipants ?? [];
console.log(`Participants that failed: ${retry.length}`);

// Create the chat thread client.
const chatThreadClient = chatClient.getChatThreadClient(threadId);

// Get a thread.
const properties = await chatThreadClient.getProperties();
console.log(`Thread properties: topic "${properties.topic}", created by ${properties.createdBy.communicationUserId}`);

// List chat threads from two days ago, five per page.
const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
for await (const page of chatClient.listChatThreads({ maxPageSize: 5, startTime: twoDaysAgo }).byPage()) {
  for (const chatThreadInfo of page) console.log(`Thread: ${chatThreadInfo.id} "${chatThreadInfo.topic}"`);
}

// Update a thread topic.
await chatThreadClient.updateTopic('new topic');
const updated = await chatThreadClient.getProperties();
if (updated.topic !== 'new topic') throw new Error(`topic not updated: ${updated.topic}`);
console.log(`Topic updated to "${updated.topic}"`);

// Send messages: without and with a sender display name and type.
const sendMessageResult = await chatThreadClient.sendMessage({ content: 'hello world' });
console.log(`Message sent: id ${sendMessageResult.id}`);
const sendMessageResultWithType = await chatThreadClient.sendMessage(
  { content: 'hello world' },
  { senderDisplayName: 'sender name', type: 'text', metadata: { hasAttachment: 'false' } },
);
console.log(`Message sent: id ${sendMessageResultWithType.id}`);

// Get a message.
const chatMessage = await chatThreadClient.getMessage(sendMessageResult.id);
console.log(`get_chat_message succeeded, message id: ${chatMessage.id} content: ${chatMessage.content.message}`);

// List messages from a day ago, one per page.
const oneDayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000);
for await (const page of chatThreadClient.listMessages({ maxPageSize: 1, startTime: oneDayAgo }).byPage()) {
  for (const message of page) console.log(`ChatMessage: Id=${message.id}; Type=${message.type}; Content=${message.content?.message ?? ''}`);
}

// Update a message.
await chatThreadClient.updateMessage(sendMessageResult.id, { content: 'updated message content' });
const updatedMessage = await chatThreadClient.getMessage(sendMessageResult.id);
if (updatedMessage.content.message !== 'updated message content') throw new Error('message not updated');
console.log(`Message updated: ${updatedMessage.content.message}`);

// Delete a message.
await chatThreadClient.deleteMessage(sendMessageResultWithType.id);
console.log(`Message deleted: ${sendMessageResultWithType.id}`);

// List thread participants, five per page.
for await (const page of chatThreadClient.listParticipants({ maxPageSize: 5, skip: 0 }).byPage()) {
  for (const participant of page) console.log(`ChatParticipant: ${participant.id.communicationUserId} ${participant.displayName ?? ''}`);
}

// Add a participant; then add several, retrying the ones that failed.
await chatThreadClient.addParticipants({
  participants: [{ id: newUsers[1], displayName: 'Wilma Flinstone', shareHistoryTime: new Date() }],
});
const addResult = await chatThreadClient.addParticipants({
  participants: newUsers.map((u) => ({ id: u, displayName: 'Fred Flinstone', shareHistoryTime: new Date() })),
});
const failed = addResult.invalidParticipants ?? [];
if (failed.length > 0) await chatThreadClient.addParticipants({ participants: failed.map((e) => ({ id: { communicationUserId: e.target } })) });
console.log('Participants added');

// Remove a participant.
await chatThreadClient.removeParticipant(newUsers[1]);
console.log(`Participant removed: ${newUsers[1].communicationUserId}`);

// Send a typing notification.
await chatThreadClient.sendTypingNotification();
console.log('Typing notification sent');

// Send a read receipt and list the read receipts.
await chatThreadClient.sendReadReceipt({ chatMessageId: sendMessageResult.id });
for await (const page of chatThreadClient.listReadReceipts({ maxPageSize: 5 }).byPage()) {
  for (const readReceipt of page) {
    console.log(`ReadReceipt: ${readReceipt.sender.communicationUserId} read ${readReceipt.chatMessageId} on ${readReceipt.readOn.toISOString()}`);
  }
}

// Delete the thread.
await chatClient.deleteChatThread(threadId);
console.log(`Thread deleted: ${threadId}`);
console.log('Quick-start complete');
