$(eval $(call program,newaliases,bin,global util))
