$(eval $(call program,postlog,bin,global util))
