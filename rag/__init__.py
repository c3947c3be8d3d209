"""方案助手 (Plan Assistant): cited answers over Chinese local-government plan documents."""
