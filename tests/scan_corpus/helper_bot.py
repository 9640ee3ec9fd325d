"""A Telegram-style bot: handlers call a module of sync helpers through a module alias."""

import asyncio

import helper_bot_store as store


async def on_message(update, context) -> None:
    chat_id = update.effective_chat.id
    history = store.history(chat_id)  # expect: KIT102
    await context.bot.send_message(chat_id, text=str(len(history)))
    store.remember(chat_id, update.message.text)  # expect: KIT102


async def on_message_fixed(update, context) -> None:
    chat_id = update.effective_chat.id
    history = await asyncio.to_thread(store.history, chat_id)  # expect: none
    await context.bot.send_message(chat_id, text=str(len(history)))
    await asyncio.to_thread(store.remember, chat_id, update.message.text)  # expect: none
    store.format_reply(history)  # expect: none
