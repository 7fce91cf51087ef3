-- Broadcast conversations (ids `b_...`): one copy of each message, read by
-- every user with their own cursor. Every user's conversation list shows
-- them, so they are found through this index of a handful of rows, never by
-- scanning all conversations. Queries must repeat its condition exactly
-- (`substr(conversation_id, 1, 2) = 'b_'`) for either planner to use it.
CREATE INDEX conversations_broadcast ON conversations (conversation_id)
    WHERE substr(conversation_id, 1, 2) = 'b_';
