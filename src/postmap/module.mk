$(eval $(call program,postmap,bin,global util))
